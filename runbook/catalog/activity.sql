-- Sessions other than ours whose transaction is open, and what they lock.
SELECT a.pid, coalesce(a.application_name, '') AS application, a.usename AS role, a.state,
       extract(epoch FROM now() - a.xact_start)::float AS xact_age_s,
       coalesce(array_agg(DISTINCT l.relation::bigint) FILTER (WHERE l.relation IS NOT NULL), '{}') AS locked_oids,
       coalesce(array_agg(DISTINCT l.mode::text) FILTER (WHERE l.relation IS NOT NULL), '{}') AS modes
FROM pg_stat_activity a
LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation' AND l.granted
WHERE a.pid <> pg_backend_pid() AND a.datname = current_database() AND a.xact_start IS NOT NULL
GROUP BY a.pid, a.application_name, a.usename, a.state, a.xact_start
ORDER BY a.xact_start
