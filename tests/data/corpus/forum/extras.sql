-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateFunction
-- Counter caches: a new post counts in its topic, its category and its author.
CREATE FUNCTION post_counters() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cat integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Topic" SET "postsCount" = "postsCount" + 1, "lastPostedAt" = NEW."createdAt", "bumpedAt" = NEW."createdAt"
         WHERE id = NEW."topicId" RETURNING "categoryId" INTO cat;
        UPDATE "Category" SET "postCount" = "postCount" + 1 WHERE id = cat;
        UPDATE "User" SET "postCount" = "postCount" + 1 WHERE id = NEW."userId";
        IF NEW."replyToPostNumber" IS NOT NULL THEN
            UPDATE "Post" SET "replyCount" = "replyCount" + 1
             WHERE "topicId" = NEW."topicId" AND "postNumber" = NEW."replyToPostNumber";
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE "Topic" SET "postsCount" = "postsCount" - 1 WHERE id = OLD."topicId" RETURNING "categoryId" INTO cat;
        UPDATE "Category" SET "postCount" = "postCount" - 1 WHERE id = cat;
        UPDATE "User" SET "postCount" = "postCount" - 1 WHERE id = OLD."userId";
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER post_counters AFTER INSERT OR DELETE ON "Post"
    FOR EACH ROW EXECUTE FUNCTION post_counters();

-- CreateFunction
CREATE FUNCTION topic_counters() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Category" SET "topicCount" = "topicCount" + 1 WHERE id = NEW."categoryId";
    ELSIF TG_OP = 'UPDATE' AND NEW."categoryId" IS DISTINCT FROM OLD."categoryId" THEN
        UPDATE "Category" SET "topicCount" = "topicCount" - 1 WHERE id = OLD."categoryId";
        UPDATE "Category" SET "topicCount" = "topicCount" + 1 WHERE id = NEW."categoryId";
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER topic_counters AFTER INSERT OR UPDATE OF "categoryId" ON "Topic"
    FOR EACH ROW EXECUTE FUNCTION topic_counters();

-- CreateFunction
-- Reactions: likes counted on the post, the topic and the author's stats ("userStats").
CREATE FUNCTION reaction_counters() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    author integer;
    topic integer;
BEGIN
    SELECT "userId", "topicId" INTO author, topic FROM "Post" WHERE id = NEW."postId";
    UPDATE "Post" SET "likeCount" = "likeCount" + 1 WHERE id = NEW."postId";
    UPDATE "Topic" SET "likeCount" = "likeCount" + 1 WHERE id = topic;
    UPDATE "userStats" SET "likesReceived" = "likesReceived" + 1 WHERE "userId" = author;
    UPDATE "userStats" SET "likesGiven" = "likesGiven" + 1 WHERE "userId" = NEW."userId";
    RETURN NULL;
END
$$;

CREATE TRIGGER "postReaction_counters" AFTER INSERT ON "postReaction"
    FOR EACH ROW EXECUTE FUNCTION reaction_counters();

-- CreateFunction
-- The app listens on channel "notifications" to push to the user's browser.
CREATE FUNCTION notify_new_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notifications', json_build_object('user', NEW."userId", 'id', NEW.id)::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER "Notification_notify" AFTER INSERT ON "Notification"
    FOR EACH ROW EXECUTE FUNCTION notify_new_notification();

-- CreateFunction
-- Moderation: suspend a user and hide their posts; every action lands in "ModeratorAction".
CREATE FUNCTION suspend_user(target integer, moderator integer, days integer, reason text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    hidden_posts integer;
BEGIN
    -- reads "User": both must exist, and the moderator must be one
    IF NOT EXISTS (SELECT 1 FROM "User" WHERE id = target) THEN
        RAISE EXCEPTION 'User % not found', target;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM "User" WHERE id = moderator AND (moderator OR admin)) THEN
        RAISE EXCEPTION 'User % is not a moderator', moderator USING HINT = 'see "User".moderator';
    END IF;
    UPDATE "User" SET "suspendedTill" = now() + make_interval(days => days) WHERE id = target;
    UPDATE "Post" SET hidden = true WHERE "userId" = target AND "createdAt" > now() - interval '1 day';
    GET DIAGNOSTICS hidden_posts = ROW_COUNT;
    INSERT INTO "ModeratorAction" ("actingUserId", action, "targetUserId", details)
    VALUES (moderator, 'suspend_user', target, reason);
    RETURN hidden_posts;
END
$$;

-- CreateFunction
CREATE FUNCTION user_can_see_category(viewer integer, cat integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT NOT c."readRestricted" OR EXISTS (
        SELECT 1 FROM "categoryGroup" cg JOIN "GroupMember" gm ON gm."groupId" = cg."groupId"
         WHERE cg."categoryId" = c.id AND gm."userId" = viewer)
      FROM "Category" c WHERE c.id = cat
$$;

-- CreateView
CREATE VIEW "TopicList" AS
SELECT t.id, t.title, t.slug, c.name AS category, u.username AS author, t."postsCount", t.views, t."likeCount",
       t."bumpedAt", array_remove(array_agg(tg.name ORDER BY tg.name), NULL) AS tags
FROM "Topic" t
JOIN "User" u ON u.id = t."userId"
LEFT JOIN "Category" c ON c.id = t."categoryId"
LEFT JOIN "_TagToTopic" tt ON tt."B" = t.id
LEFT JOIN "Tag" tg ON tg.id = tt."A"
WHERE t."deletedAt" IS NULL AND t.archetype = 'regular'
GROUP BY t.id, c.name, u.username;

-- CreateMaterializedView (refreshed hourly by the scheduler)
CREATE MATERIALIZED VIEW top_topics AS
SELECT t.id, t."categoryId", t."likeCount" * 2 + t."postsCount" + t.views / 10 AS score
FROM "Topic" t
WHERE t."deletedAt" IS NULL
WITH DATA;
CREATE UNIQUE INDEX top_topics_id ON top_topics (id);

-- Private messages are visible to their participants only
ALTER TABLE "Notification" ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notifications ON "Notification" TO app_user
    USING ("userId" = nullif(current_setting('app.user_id', true), '')::integer);
ALTER TABLE "Draft" ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_drafts ON "Draft" TO app_user
    USING ("userId" = nullif(current_setting('app.user_id', true), '')::integer);

ALTER TABLE "Category" ADD CONSTRAINT "Category_color_hex" CHECK (color ~ '^[0-9A-Za-z]{1,6}$');
ALTER TABLE "UserFollow" ADD CONSTRAINT "UserFollow_not_self" CHECK ("followerId" <> "followedId");

-- Grants
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT SELECT ON top_topics TO app_user;
