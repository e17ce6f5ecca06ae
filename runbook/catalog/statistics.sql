-- Extended statistics objects (CREATE STATISTICS) and the table each is on. They follow
-- a renamed table by OID, but keep their own names: "User_name_stats" on users.
SELECT s.oid, n.nspname AS schema, s.stxname AS name, s.stxrelid AS table_oid,
       pg_get_statisticsobjdef(s.oid) AS definition
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY s.stxrelid, s.stxname
