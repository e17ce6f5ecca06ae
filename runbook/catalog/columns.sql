SELECT a.attrelid AS table_oid, a.attnum, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       t.typname AS type_name, tn.nspname AS type_schema, t.typtype AS type_kind,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_expr,
       a.attidentity AS identity, a.attgenerated AS generated,
       coalesce(a.attacl::text, '') AS acl
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY a.attrelid, a.attnum
