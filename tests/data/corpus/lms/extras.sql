-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateFunction
CREATE FUNCTION trigger_set_timestamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" = NOW();
    RETURN NEW;
END;
$$;

CREATE TRIGGER set_timestamp BEFORE UPDATE ON "Course" FOR EACH ROW EXECUTE PROCEDURE trigger_set_timestamp();
CREATE TRIGGER set_timestamp BEFORE UPDATE ON "Profile" FOR EACH ROW EXECUTE PROCEDURE trigger_set_timestamp();
CREATE TRIGGER set_timestamp BEFORE UPDATE ON "Submission" FOR EACH ROW EXECUTE PROCEDURE trigger_set_timestamp();

-- CreateFunction
-- "Course"."studentCount" follows the students of the course's group.
CREATE FUNCTION update_course_student_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    g uuid := coalesce(NEW."groupId", OLD."groupId");
BEGIN
    UPDATE "Course" c
       SET "studentCount" = (SELECT count(*) FROM "GroupMember" gm WHERE gm."groupId" = g AND gm.role = 'STUDENT')
     WHERE c."groupId" = g;
    RETURN NULL;
END;
$$;

CREATE TRIGGER group_member_student_count AFTER INSERT OR DELETE OR UPDATE OF role ON "GroupMember"
    FOR EACH ROW EXECUTE FUNCTION update_course_student_count();

-- CreateFunction
-- Grading: a submission's total is the sum of its answers' points.
CREATE FUNCTION submission_total() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "Submission" s SET total = (SELECT coalesce(sum(point), 0) FROM "QuizAnswer" a WHERE a."submissionId" = s.id)
     WHERE s.id = coalesce(NEW."submissionId", OLD."submissionId");
    RETURN NULL;
END;
$$;

CREATE TRIGGER quiz_answer_total AFTER INSERT OR UPDATE OF point OR DELETE ON "QuizAnswer"
    FOR EACH ROW EXECUTE FUNCTION submission_total();

-- CreateFunction
-- Issues the certificate once every lesson of the course is complete.
CREATE FUNCTION issue_certificate(course uuid, student uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    remaining integer;
    serial text;
BEGIN
    -- reads "Lesson" and "LessonCompletion"
    SELECT count(*) INTO remaining FROM "Lesson" l
     WHERE l."courseId" = course
       AND NOT EXISTS (SELECT 1 FROM "LessonCompletion" lc WHERE lc."lessonId" = l.id
                        AND lc."profileId" = student AND lc."isComplete");
    IF remaining > 0 THEN
        RAISE EXCEPTION 'Profile % has % lessons left in Course %', student, remaining, course
            USING ERRCODE = 'check_violation';
    END IF;
    serial := upper(substr(md5(course::text || student::text), 1, 12));
    INSERT INTO "Certificate" ("courseId", "profileId", serial) VALUES (course, student, serial)
    ON CONFLICT ("courseId", "profileId") DO NOTHING;
    RETURN serial;
END;
$$;

-- CreateFunction
-- Supabase-era helpers the RLS policies call.
CREATE FUNCTION is_org_admin(org integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM "OrganizationMember" om
                    WHERE om."organizationId" = org AND om."roleId" IN (1, 2)
                      AND om."profileId"::text = current_setting('app.profile_id', true))
$$;

CREATE FUNCTION get_courses(org integer)
RETURNS TABLE (id uuid, title text, lessons bigint, students integer)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.title, (SELECT count(*) FROM "Lesson" l WHERE l."courseId" = c.id), c."studentCount"
      FROM "Course" c WHERE c."organizationId" = org AND NOT c."isTemplate"
     ORDER BY c."createdAt" DESC
$$;

-- CreateView
CREATE VIEW "CourseProgress" AS
SELECT gm.id AS "groupMemberId", c.id AS "courseId", gm."profileId",
       count(lc."lessonId") FILTER (WHERE lc."isComplete") AS completed,
       (SELECT count(*) FROM "Lesson" l WHERE l."courseId" = c.id) AS total
FROM "Course" c
JOIN "GroupMember" gm ON gm."groupId" = c."groupId" AND gm.role = 'STUDENT'
LEFT JOIN "LessonCompletion" lc ON lc."groupMemberId" = gm.id
GROUP BY gm.id, c.id, gm."profileId";

CREATE VIEW submission_inbox AS
SELECT s.id, e.title AS exercise, p.fullname AS student, s.status, s.total, e."maxPoints", s."createdAt"
FROM "Submission" s JOIN "Exercise" e ON e.id = s."exerciseId" JOIN "Profile" p ON p.id = s."profileId"
WHERE s.status IN ('submitted', 'in_review');

-- Row level security
ALTER TABLE "Course" ENABLE ROW LEVEL SECURITY;
CREATE POLICY courses_published_or_admin ON "Course" FOR SELECT TO app_user
    USING ("isPublished" OR is_org_admin("organizationId"));
CREATE POLICY courses_admin_write ON "Course" FOR UPDATE TO app_user
    USING (is_org_admin("organizationId")) WITH CHECK (is_org_admin("organizationId"));
ALTER TABLE "Submission" ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_submissions ON "Submission" TO app_user
    USING ("profileId"::text = current_setting('app.profile_id', true));

ALTER TABLE "Exercise" ADD CONSTRAINT "Exercise_maxPoints_check" CHECK ("maxPoints" > 0);
ALTER TABLE "QuizAnswer" ADD CONSTRAINT "QuizAnswer_point_check" CHECK (point >= 0);

-- Grants
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT EXECUTE ON FUNCTION issue_certificate(uuid, uuid), get_courses(integer) TO app_user;
