-- Sequences and the column that owns them (serial / identity).
SELECT s.oid, n.nspname AS schema, s.relname AS name,
       d.refobjid AS table_oid, a.attname AS column_name, d.deptype AS dep_type
FROM pg_class s
JOIN pg_namespace n ON n.oid = s.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE s.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
ORDER BY n.nspname, s.relname
