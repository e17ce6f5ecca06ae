-- What would make pg_dump of the whole database fail for the current role: one row per
-- problem (kind, object, reason, how many). pg_dump locks and reads every table and
-- sequence outside the pg_* schemas and information_schema (extension members only when
-- they are extension configuration tables), with row_security off, so it stops at:
--   a schema without USAGE that holds such a relation (LOCK TABLE fails);
--   a table or partitioned table without table-level SELECT (column grants are not
--   enough: LOCK TABLE ... IN ACCESS SHARE MODE needs the table privilege);
--   a sequence without SELECT (USAGE or UPDATE are not enough);
--   a table whose row-level security applies to the role: enabled and the role neither
--   superuser nor BYPASSRLS nor (a member of) the owner, or FORCE ROW LEVEL SECURITY and
--   not superuser / BYPASSRLS ("query would be affected by row-level security policy");
--   large objects the role cannot SELECT.
-- https://www.postgresql.org/docs/current/ddl-rowsecurity.html
-- https://www.postgresql.org/docs/current/sql-lock.html
WITH me AS (
    SELECT r.rolsuper OR r.rolbypassrls AS bypass_rls FROM pg_roles r WHERE r.rolname = current_user
), dumped AS (
    SELECT c.oid, c.relkind, n.oid AS nsp, n.nspname, c.relname, c.relowner, c.relrowsecurity,
           c.relforcerowsecurity, has_schema_privilege(n.oid, 'USAGE') AS usable
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'S') AND c.relpersistence <> 't'
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
      AND (NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                   AND d.deptype = 'e')
           OR EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)))
)
SELECT 'schema' AS kind, quote_ident(nspname) AS object, 'no USAGE on the schema' AS reason, count(*) AS n
FROM dumped WHERE NOT usable GROUP BY nspname
UNION ALL
SELECT 'table', format('%I.%I', nspname, relname), 'no SELECT', 1
FROM dumped WHERE usable AND relkind IN ('r', 'p') AND NOT has_table_privilege(oid, 'SELECT')
UNION ALL
SELECT 'sequence', format('%I.%I', nspname, relname), 'no SELECT', 1
-- CASE: WHERE clauses are not evaluated in order, and has_sequence_privilege rejects a table
FROM dumped WHERE usable AND CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege(oid, 'SELECT') ELSE false END
UNION ALL
SELECT 'table', format('%I.%I', nspname, relname),
       CASE WHEN relforcerowsecurity AND pg_has_role(relowner, 'USAGE') THEN 'FORCE ROW LEVEL SECURITY'
            ELSE 'row-level security applies to the role' END, 1
FROM dumped, me
WHERE usable AND relkind = 'r' AND relrowsecurity AND NOT me.bypass_rls
  AND (relforcerowsecurity OR NOT pg_has_role(relowner, 'USAGE'))
  AND has_table_privilege(oid, 'SELECT')
UNION ALL
SELECT 'large object', min(m.oid)::text, 'no SELECT', count(*)
FROM pg_largeobject_metadata m
WHERE NOT current_setting('lo_compat_privileges')::bool AND NOT pg_has_role(m.lomowner, 'USAGE')
  AND NOT EXISTS (SELECT 1 FROM aclexplode(m.lomacl) a
                  WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role(a.grantee, 'USAGE')))
HAVING count(*) > 0
ORDER BY 1, 2
