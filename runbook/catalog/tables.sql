-- Every ordinary or partitioned table, with its size and exact-enough facts.
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       c.relfilenode, pg_get_userbyid(c.relowner) AS owner,
       pg_total_relation_size(c.oid) AS total_bytes,
       c.reltuples::bigint AS row_estimate,
       coalesce(c.relacl::text, '') AS acl,
       c.relrowsecurity AS rls
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY n.nspname, c.relname
