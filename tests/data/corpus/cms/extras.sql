-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateFunction
-- Full-text search: posts.search_vector (declared Unsupported("tsvector") in the schema,
-- with its GIN index) is kept by a trigger, weighted title > excerpt > body.
CREATE FUNCTION posts_search_vector_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.plaintext, '')), 'C');
    RETURN NEW;
END
$$;

CREATE TRIGGER posts_search_vector BEFORE INSERT OR UPDATE OF title, plaintext ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_vector_update();

-- CreateFunction
-- updated_at for the snake_case tables (the admin API writes without Prisma).
CREATE FUNCTION set_updated_at_column() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER posts_updated_at BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION set_updated_at_column();
CREATE TRIGGER members_updated_at BEFORE UPDATE ON members FOR EACH ROW EXECUTE FUNCTION set_updated_at_column();
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at_column();

-- CreateFunction
-- Counter cache of comment likes.
CREATE FUNCTION comment_like_counter() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Comment" SET "likeCount" = "likeCount" + 1 WHERE id = NEW."commentId";
        RETURN NEW;
    END IF;
    UPDATE "Comment" SET "likeCount" = "likeCount" - 1 WHERE id = OLD."commentId";
    RETURN OLD;
END
$$;

CREATE TRIGGER "CommentLike_counter" AFTER INSERT OR DELETE ON "CommentLike"
    FOR EACH ROW EXECUTE FUNCTION comment_like_counter();

-- CreateFunction
-- Delivery and open counters of an email follow its recipients (the mail provider's webhook
-- updates "EmailRecipient" rows in bulk).
CREATE FUNCTION email_recipient_counters() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."deliveredAt" IS NOT NULL AND OLD."deliveredAt" IS NULL THEN
        UPDATE "Email" SET "deliveredCount" = "deliveredCount" + 1 WHERE id = NEW."emailId";
    END IF;
    IF NEW."openedAt" IS NOT NULL AND OLD."openedAt" IS NULL THEN
        UPDATE "Email" SET "openedCount" = "openedCount" + 1 WHERE id = NEW."emailId";
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER "EmailRecipient_counters" AFTER UPDATE OF "deliveredAt", "openedAt" ON "EmailRecipient"
    FOR EACH ROW EXECUTE FUNCTION email_recipient_counters();

-- CreateFunction
-- Audit of member status changes into "MemberEvent".
CREATE FUNCTION member_status_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO "MemberEvent" ("memberId", kind, data)
        VALUES (NEW.id, 'status_change', jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER members_status_event AFTER UPDATE OF status ON members
    FOR EACH ROW EXECUTE FUNCTION member_status_event();

-- CreateFunction
-- Search used by the admin's post picker.
CREATE FUNCTION search_posts(q text, max_rows integer DEFAULT 20)
RETURNS TABLE (id varchar, title varchar, rank real)
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.title, ts_rank(p.search_vector, websearch_to_tsquery('english', q)) AS rank
      FROM posts p
     WHERE p.search_vector @@ websearch_to_tsquery('english', q)
     ORDER BY rank DESC
     LIMIT max_rows
$$;

-- CreateFunction
CREATE FUNCTION publish_post(post_id varchar, by_user varchar) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- reads "User" (users) for the role check, updates posts
    IF NOT EXISTS (SELECT 1 FROM users u JOIN "_RoleToUser" ru ON ru."B" = u.id
                    JOIN roles r ON r.id = ru."A"
                    WHERE u.id = by_user AND r.name IN ('Administrator', 'Editor')) THEN
        RAISE EXCEPTION 'User % not found or may not publish', by_user;
    END IF;
    UPDATE posts SET status = 'published', published_at = coalesce(published_at, now()) WHERE id = post_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Post % not found', post_id;
    END IF;
END
$$;

-- CreateView
CREATE VIEW public_posts AS
SELECT p.id, p.slug, p.title, p.published_at, u.name AS author, m.meta_title,
       array_agg(t.slug ORDER BY t.slug) FILTER (WHERE t.slug IS NOT NULL) AS tags
FROM posts p
JOIN users u ON u.id = p.author_id
LEFT JOIN posts_meta m ON m.post_id = p.id
LEFT JOIN "_PostToTag" pt ON pt."A" = p.id
LEFT JOIN tags t ON t.id = pt."B"
WHERE p.status = 'published' AND p.visibility = 'public'
GROUP BY p.id, u.name, m.meta_title;

CREATE VIEW "NewsletterStats" AS
SELECT n.id, n.name, count(mn.member_id) AS subscribers,
       (SELECT count(*) FROM "Email" e WHERE e."newsletterId" = n.id) AS emails_sent
FROM newsletters n LEFT JOIN members_newsletters mn ON mn.newsletter_id = n.id
GROUP BY n.id, n.name;

-- Members can read only published comments, and write their own
ALTER TABLE "Comment" ENABLE ROW LEVEL SECURITY;
CREATE POLICY comments_read ON "Comment" FOR SELECT TO app_user USING (status = 'published');
CREATE POLICY comments_write_own ON "Comment" FOR INSERT TO app_user
    WITH CHECK ("memberId" = current_setting('app.member_id', true));

ALTER TABLE "Redirect" ADD CONSTRAINT "Redirect_paths_differ" CHECK ("fromPath" <> "toPath");

-- Grants
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT EXECUTE ON FUNCTION search_posts(text, integer), publish_post(varchar, varchar) TO app_user;
