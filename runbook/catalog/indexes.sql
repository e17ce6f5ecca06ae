SELECT i.indexrelid AS oid, ic.relname AS name, i.indrelid AS table_oid,
       pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS is_unique,
       i.indisprimary AS is_primary, i.indisvalid AS is_valid,
       coalesce((SELECT array_agg(coalesce(a.attname::text, '(expr)') ORDER BY k.ord)
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE k.ord <= i.indnkeyatts), '{}') AS columns,
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
               AND c.contype IN ('p', 'u', 'x')) AS backs_constraint
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY i.indrelid, ic.relname
