SELECT p.oid, p.polname AS name, p.polrelid AS table_oid,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
FROM pg_policy p
ORDER BY p.polrelid, p.polname
