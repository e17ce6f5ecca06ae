-- Hand-written migrations that follow Prisma's initial one, as the project ships them
-- (prisma/migrations/*/migration.sql): everything Prisma's schema cannot declare.

-- CreateFunction
-- Keeps "updatedAt" right for writes that do not come through Prisma Client
-- (the importers write with raw SQL).
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" := CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$;

CREATE TRIGGER issue_set_updated_at BEFORE UPDATE ON "Issue"
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER project_set_updated_at BEFORE UPDATE ON "Project"
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER workspace_set_updated_at BEFORE UPDATE ON "Workspace"
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER page_set_updated_at BEFORE UPDATE ON "Page"
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER issue_comment_set_updated_at BEFORE UPDATE ON "IssueComment"
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- CreateFunction
-- Gives a new issue the next number of its project ("PRJ-42"); reads and updates "Project".
CREATE OR REPLACE FUNCTION issue_next_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    next_id integer;
BEGIN
    IF NEW."sequenceId" IS NOT NULL AND NEW."sequenceId" > 0 THEN
        -- imported issues keep their number; move the counter past it
        UPDATE "Project" SET "issueSequence" = greatest("issueSequence", NEW."sequenceId")
         WHERE id = NEW."projectId";
        RETURN NEW;
    END IF;
    UPDATE "Project" p SET "issueSequence" = p."issueSequence" + 1
     WHERE p.id = NEW."projectId"
     RETURNING p."issueSequence" INTO next_id;
    IF next_id IS NULL THEN
        RAISE EXCEPTION 'Project % not found for issue %', NEW."projectId", NEW.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW."sequenceId" := next_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER issue_sequence BEFORE INSERT ON "Issue"
    FOR EACH ROW EXECUTE FUNCTION issue_next_sequence();

-- CreateFunction
-- Counter cache: "Issue"."commentCount" follows "IssueComment".
CREATE OR REPLACE FUNCTION issue_comment_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Issue" SET "commentCount" = "commentCount" + 1 WHERE id = NEW."issueId";
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE "Issue" SET "commentCount" = greatest("commentCount" - 1, 0) WHERE id = OLD."issueId";
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER issue_comment_counter AFTER INSERT OR DELETE ON "IssueComment"
    FOR EACH ROW EXECUTE FUNCTION issue_comment_count();

-- CreateFunction
-- Audit trigger: every change of an issue, a project or a member lands in "AuditTrail".
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    row_id text;
BEGIN
    row_id := coalesce(to_jsonb(NEW) ->> 'id', to_jsonb(OLD) ->> 'id',
                       concat_ws('/', to_jsonb(coalesce(NEW, OLD)) ->> 'projectId', to_jsonb(coalesce(NEW, OLD)) ->> 'userId'));
    INSERT INTO "AuditTrail" ("tableName", "rowId", "operation", "changedBy", "oldRow", "newRow")
    VALUES (TG_TABLE_NAME, row_id, TG_OP, current_setting('app.user_id', true),
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END;
$$;

CREATE TRIGGER issue_audit AFTER INSERT OR UPDATE OR DELETE ON "Issue"
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER project_audit AFTER INSERT OR UPDATE OR DELETE ON "Project"
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER project_member_audit AFTER INSERT OR UPDATE OR DELETE ON "ProjectMember"
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();

-- CreateFunction
-- Used by the "move issues" endpoint: every issue of a cycle into another one.
CREATE OR REPLACE FUNCTION transfer_cycle_issues(from_cycle uuid, to_cycle uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    -- reads "Cycle": both must belong to the same project
    IF NOT EXISTS (SELECT 1 FROM "Cycle" a JOIN "Cycle" b ON a."projectId" = b."projectId"
                    WHERE a.id = from_cycle AND b.id = to_cycle) THEN
        RAISE EXCEPTION 'Cycle % not found or not in the project of cycle %', to_cycle, from_cycle;
    END IF;
    UPDATE "CycleIssue" SET "cycleId" = to_cycle WHERE "cycleId" = from_cycle;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RAISE NOTICE 'moved % issues from "Cycle" %', moved, from_cycle;
    RETURN moved;
END;
$$;

-- CreateFunction
CREATE OR REPLACE FUNCTION workspace_issue_count(ws uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM "Issue" i JOIN "Project" p ON p.id = i."projectId"
     WHERE p."workspaceId" = ws AND i."archivedAt" IS NULL
$$;

-- CreateView
CREATE VIEW issue_overview AS
SELECT i.id, p.identifier || '-' || i."sequenceId" AS key, i.name, i.priority, s.name AS state, s."group" AS state_group,
       (SELECT count(*) FROM "IssueAssignee" a WHERE a."issueId" = i.id) AS assignees,
       i."commentCount", i."createdAt"
FROM "Issue" i
JOIN "Project" p ON p.id = i."projectId"
LEFT JOIN "State" s ON s.id = i."stateId"
WHERE i."archivedAt" IS NULL;

CREATE VIEW "CycleProgress" AS
SELECT c.id AS "cycleId", c.name, count(ci."issueId") AS total,
       count(*) FILTER (WHERE s."group" = 'completed') AS completed
FROM "Cycle" c
LEFT JOIN "CycleIssue" ci ON ci."cycleId" = c.id
LEFT JOIN "Issue" i ON i.id = ci."issueId"
LEFT JOIN "State" s ON s.id = i."stateId"
GROUP BY c.id, c.name;

-- The activity log grew past 200M rows: partition it by month (the 2026-03 migration).
-- Prisma's table is replaced by a partitioned one with the same columns, keys and names.
-- AlterTable
ALTER TABLE "IssueActivity" RENAME TO "IssueActivity_old";
ALTER TABLE "IssueActivity_old" RENAME CONSTRAINT "IssueActivity_pkey" TO "IssueActivity_old_pkey";
ALTER TABLE "IssueActivity_old" RENAME CONSTRAINT "IssueActivity_issueId_fkey" TO "IssueActivity_old_issueId_fkey";
ALTER TABLE "IssueActivity_old" RENAME CONSTRAINT "IssueActivity_actorId_fkey" TO "IssueActivity_old_actorId_fkey";
ALTER INDEX "IssueActivity_issueId_createdAt_idx" RENAME TO "IssueActivity_old_issueId_createdAt_idx";
ALTER SEQUENCE "IssueActivity_id_seq" OWNED BY NONE;

CREATE TABLE "IssueActivity" (
    "id" BIGINT NOT NULL DEFAULT nextval('"IssueActivity_id_seq"'),
    "issueId" UUID NOT NULL,
    "actorId" UUID,
    "verb" TEXT NOT NULL,
    "field" TEXT,
    "oldValue" TEXT,
    "newValue" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "IssueActivity_pkey" PRIMARY KEY ("id", "createdAt")
) PARTITION BY RANGE ("createdAt");
ALTER SEQUENCE "IssueActivity_id_seq" OWNED BY "IssueActivity"."id";
CREATE INDEX "IssueActivity_issueId_createdAt_idx" ON "IssueActivity"("issueId", "createdAt");
ALTER TABLE "IssueActivity" ADD CONSTRAINT "IssueActivity_issueId_fkey" FOREIGN KEY ("issueId") REFERENCES "Issue"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "IssueActivity" ADD CONSTRAINT "IssueActivity_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "IssueActivity_2025" PARTITION OF "IssueActivity" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE "IssueActivity_2026_01" PARTITION OF "IssueActivity" FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE "IssueActivity_2026_02" PARTITION OF "IssueActivity" FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE "IssueActivity_2026_03" PARTITION OF "IssueActivity" FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE TABLE "IssueActivity_default" PARTITION OF "IssueActivity" DEFAULT;

INSERT INTO "IssueActivity" SELECT * FROM "IssueActivity_old";
DROP TABLE "IssueActivity_old";

-- Row level security: the API connects as app_user and sets app.workspace_id.
ALTER TABLE "Issue" ENABLE ROW LEVEL SECURITY;
CREATE POLICY issue_workspace_isolation ON "Issue" TO app_user
    USING (EXISTS (SELECT 1 FROM "Project" p WHERE p.id = "Issue"."projectId"
                    AND p."workspaceId"::text = current_setting('app.workspace_id', true)));
ALTER TABLE "Project" ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_workspace_isolation ON "Project" TO app_user
    USING ("workspaceId"::text = current_setting('app.workspace_id', true))
    WITH CHECK ("workspaceId"::text = current_setting('app.workspace_id', true));

-- CHECK constraints Prisma cannot declare
ALTER TABLE "TimeEntry" ADD CONSTRAINT "TimeEntry_minutes_check" CHECK (minutes > 0 AND minutes <= 1440);
ALTER TABLE "State" ADD CONSTRAINT "State_color_check" CHECK (color ~ '^#?[0-9A-Za-z]{1,6}$');

-- Grants
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT EXECUTE ON FUNCTION transfer_cycle_issues(uuid, uuid), workspace_issue_count(uuid) TO app_user;
REVOKE ALL ON "AuditTrail" FROM app_user;
GRANT SELECT ON "AuditTrail" TO app_user;
