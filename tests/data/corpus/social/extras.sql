-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateFunction
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" := now();
    RETURN NEW;
END $$;
CREATE TRIGGER person_touch BEFORE UPDATE ON "Person" FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER status_touch BEFORE UPDATE ON "Status" FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- CreateFunction
-- Status ids are time-ordered (milliseconds << 16 | a sequence), as federated servers do.
CREATE SEQUENCE status_id_seq;
CREATE FUNCTION next_status_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16) | (nextval('status_id_seq') % 65536)
$$;

-- CreateFunction
-- Search: "Status"."searchVector" (Unsupported("tsvector") with a GIN index in the schema).
CREATE FUNCTION status_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."searchVector" := to_tsvector('simple', coalesce(NEW."spoilerText", '') || ' ' || coalesce(NEW.text, ''));
    RETURN NEW;
END $$;
CREATE TRIGGER status_search BEFORE INSERT OR UPDATE OF text, "spoilerText" ON "Status"
    FOR EACH ROW EXECUTE FUNCTION status_search_vector();

-- CreateFunction
-- Counter caches on "Status" and "Person".
CREATE FUNCTION status_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Person" SET "statusesCount" = "statusesCount" + 1 WHERE id = NEW."personId";
        IF NEW."inReplyToId" IS NOT NULL THEN
            UPDATE "Status" SET "repliesCount" = "repliesCount" + 1 WHERE id = NEW."inReplyToId";
        END IF;
        IF NEW."reblogOfId" IS NOT NULL THEN
            UPDATE "Status" SET "reblogsCount" = "reblogsCount" + 1 WHERE id = NEW."reblogOfId";
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE "Person" SET "statusesCount" = greatest("statusesCount" - 1, 0) WHERE id = OLD."personId";
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER status_counters AFTER INSERT OR DELETE ON "Status" FOR EACH ROW EXECUTE FUNCTION status_counters();

CREATE FUNCTION favourite_counter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Status" SET "favouritesCount" = "favouritesCount" + 1 WHERE id = NEW."statusId";
    ELSE
        UPDATE "Status" SET "favouritesCount" = greatest("favouritesCount" - 1, 0) WHERE id = OLD."statusId";
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER favourite_counter AFTER INSERT OR DELETE ON "Favourite" FOR EACH ROW EXECUTE FUNCTION favourite_counter();

CREATE FUNCTION follow_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Person" SET "followingCount" = "followingCount" + 1 WHERE id = NEW."personId";
        UPDATE "Person" SET "followersCount" = "followersCount" + 1 WHERE id = NEW."targetId";
    ELSE
        UPDATE "Person" SET "followingCount" = "followingCount" - 1 WHERE id = OLD."personId";
        UPDATE "Person" SET "followersCount" = "followersCount" - 1 WHERE id = OLD."targetId";
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER follow_counters AFTER INSERT OR DELETE ON "Follow" FOR EACH ROW EXECUTE FUNCTION follow_counters();

-- CreateFunction
-- Accepting a follow request turns it into a follow.
CREATE FUNCTION accept_follow_request(request bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r "FollowRequest"%ROWTYPE;
    new_id bigint;
BEGIN
    DELETE FROM "FollowRequest" WHERE id = request RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'FollowRequest % not found', request;
    END IF;
    INSERT INTO "Follow" ("personId", "targetId") VALUES (r."personId", r."targetId")
    ON CONFLICT ("personId", "targetId") DO NOTHING
    RETURNING id INTO new_id;
    RETURN new_id;
END $$;

-- CreateFunction
CREATE FUNCTION relationship(me bigint, other bigint)
RETURNS TABLE (following boolean, followed_by boolean, blocking boolean, requested boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- reads "Person", "Follow", "Block", "FollowRequest"
    IF NOT EXISTS (SELECT 1 FROM "Person" WHERE id = other) THEN
        RAISE EXCEPTION 'Person % not found', other;
    END IF;
    RETURN QUERY SELECT
        EXISTS (SELECT 1 FROM "Follow" f WHERE f."personId" = me AND f."targetId" = other),
        EXISTS (SELECT 1 FROM "Follow" f WHERE f."personId" = other AND f."targetId" = me),
        EXISTS (SELECT 1 FROM "Block" b WHERE b."personId" = me AND b."targetId" = other),
        EXISTS (SELECT 1 FROM "FollowRequest" fr WHERE fr."personId" = me AND fr."targetId" = other);
END $$;

-- CreateView
CREATE VIEW "PublicTimeline" AS
SELECT s.id, s.uri, s.text, s."createdAt", p.username, p.domain, s."favouritesCount", s."reblogsCount"
FROM "Status" s JOIN "Person" p ON p.id = s."personId"
WHERE s.visibility = 'PUBLIC' AND s."deletedAt" IS NULL AND s."reblogOfId" IS NULL AND p."suspendedAt" IS NULL;

CREATE VIEW trending_tags AS
SELECT h.name, count(*) AS uses, count(DISTINCT s."personId") AS accounts
FROM "Hashtag" h
JOIN "_HashtagToStatus" hs ON hs."A" = h.id
JOIN "Status" s ON s.id = hs."B"
WHERE s."createdAt" > now() - interval '7 days' AND h.trendable IS NOT FALSE
GROUP BY h.name;

-- Row level security
ALTER TABLE "Notification" ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notifications ON "Notification" TO app_user
    USING ("recipientId" = nullif(current_setting('app.person_id', true), '')::bigint);
ALTER TABLE "Status" ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible_statuses ON "Status" FOR SELECT TO app_user
    USING (visibility IN ('PUBLIC', 'UNLISTED') OR "personId" = nullif(current_setting('app.person_id', true), '')::bigint);
CREATE POLICY own_statuses ON "Status" FOR ALL TO app_user
    USING ("personId" = nullif(current_setting('app.person_id', true), '')::bigint);

ALTER TABLE "Follow" ADD CONSTRAINT "Follow_not_self" CHECK ("personId" <> "targetId");
ALTER TABLE "Block" ADD CONSTRAINT "Block_not_self" CHECK ("personId" <> "targetId");

-- Grants
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT EXECUTE ON FUNCTION next_status_id(), accept_follow_request(bigint), relationship(bigint, bigint) TO app_user;
