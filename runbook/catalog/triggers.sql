SELECT t.oid, t.tgname AS name, t.tgrelid AS table_oid, t.tgfoid AS function_oid,
       pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
ORDER BY t.tgrelid, t.tgname
