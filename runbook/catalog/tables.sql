-- Every ordinary or partitioned table, with its size and exact-enough facts, and where
-- it sits in a hierarchy (pg_inherits: declarative partitions and inheritance children).
-- relfilenode of a partitioned table ('p') is 0: it has no storage of its own; its
-- total_bytes are its partitions'.
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       c.relfilenode, pg_get_userbyid(c.relowner) AS owner,
       CASE WHEN c.relkind = 'p'  -- its partitions hold its rows and its size
            THEN (SELECT coalesce(sum(pg_total_relation_size(pt.relid)), 0) FROM pg_partition_tree(c.oid) pt)::bigint
            ELSE pg_total_relation_size(c.oid) END AS total_bytes,
       c.reltuples::bigint AS row_estimate,
       coalesce(c.relacl::text, '') AS acl,
       c.relrowsecurity AS rls,
       c.relispartition AS is_partition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) ELSE '' END AS partition_key,
       coalesce(pg_get_expr(c.relpartbound, c.oid), '') AS partition_bound,
       ARRAY(SELECT i.inhparent::bigint FROM pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
       ARRAY(SELECT i.inhrelid::bigint FROM pg_inherits i JOIN pg_class ch ON ch.oid = i.inhrelid
             WHERE i.inhparent = c.oid AND ch.relkind IN ('r', 'p') ORDER BY ch.relname) AS children
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY n.nspname, c.relname
