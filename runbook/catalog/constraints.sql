SELECT con.oid, con.conname AS name, con.contype AS type, con.conrelid AS table_oid,
       con.confrelid AS ref_table_oid, pg_get_constraintdef(con.oid) AS definition,
       con.convalidated AS validated,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), '{}') AS columns,
       con.conindid AS index_oid, con.conparentid AS parent_oid
FROM pg_constraint con
JOIN pg_namespace n ON n.oid = con.connamespace
WHERE con.conrelid <> 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')
ORDER BY con.conrelid, con.conname
