-- Views and materialized views, with the tables each one reads.
SELECT v.oid, n.nspname AS schema, v.relname AS name, v.relkind AS kind,
       pg_get_viewdef(v.oid) AS definition,
       coalesce(array_agg(DISTINCT d.refobjid::bigint) FILTER (WHERE d.refobjid IS NOT NULL AND d.refobjid <> v.oid), '{}') AS table_oids
FROM pg_class v
JOIN pg_namespace n ON n.oid = v.relnamespace
LEFT JOIN pg_rewrite r ON r.ev_class = v.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
     AND d.refclassid = 'pg_class'::regclass
WHERE v.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
GROUP BY v.oid, n.nspname, v.relname, v.relkind
ORDER BY n.nspname, v.relname
