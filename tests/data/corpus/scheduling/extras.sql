-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateView
-- The view the schema declares (`view BookingTimeStatus`); Prisma does not create views.
CREATE OR REPLACE VIEW "BookingTimeStatus" AS
SELECT
    "Booking".id, "Booking".uid, "Booking"."eventTypeId", "Booking".title, "Booking".description,
    "Booking"."startTime", "Booking"."endTime", "Booking"."createdAt", "Booking".location,
    "Booking".paid, "Booking".status, "Booking".rescheduled, "Booking"."userId",
    et."teamId", et.length AS "eventLength",
    CASE
        WHEN "Booking".rescheduled IS TRUE THEN 'rescheduled'
        WHEN "Booking".status = 'cancelled' AND "Booking".rescheduled IS NULL THEN 'cancelled'
        WHEN "Booking"."endTime" < now() THEN 'completed'
        WHEN "Booking"."endTime" > now() THEN 'uncompleted'
        ELSE NULL
    END AS "timeStatus",
    et."parentId" AS "eventParentId",
    u.email AS "userEmail", u.username
FROM "Booking"
LEFT JOIN "EventType" et ON "Booking"."eventTypeId" = et.id
LEFT JOIN users u ON u.id = "Booking"."userId";

-- CreateFunction
-- "updatedAt" of a booking (nullable, no @updatedAt) follows every update.
CREATE FUNCTION booking_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER "Booking_touch" BEFORE UPDATE ON "Booking" FOR EACH ROW EXECUTE FUNCTION booking_touch();

-- CreateFunction
-- A booking seat's attendee must belong to the same booking.
CREATE FUNCTION booking_seat_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    att_booking integer;
BEGIN
    -- reads "Attendee"
    SELECT "bookingId" INTO att_booking FROM "Attendee" WHERE id = NEW."attendeeId";
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Attendee % not found', NEW."attendeeId";
    END IF;
    IF att_booking IS DISTINCT FROM NEW."bookingId" THEN
        RAISE EXCEPTION 'Attendee % belongs to booking %, not %', NEW."attendeeId", att_booking, NEW."bookingId";
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER "BookingSeat_check" BEFORE INSERT OR UPDATE ON "BookingSeat"
    FOR EACH ROW EXECUTE FUNCTION booking_seat_check();

-- CreateFunction
-- Used by the admin "lock user" action; comments and messages name the tables.
CREATE FUNCTION lock_user_and_cancel_bookings(target_user integer, reason text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    cancelled integer;
BEGIN
    -- reads "User" (table users) and updates "Booking"
    PERFORM 1 FROM users WHERE id = target_user FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'User % not found', target_user;
    END IF;
    UPDATE users SET metadata = coalesce(metadata, '{}'::jsonb) || jsonb_build_object('lockedReason', reason)
     WHERE id = target_user;
    UPDATE "Booking" SET status = 'cancelled', "cancellationReason" = reason
     WHERE "userId" = target_user AND "startTime" > now() AND status <> 'cancelled';
    GET DIAGNOSTICS cancelled = ROW_COUNT;
    RAISE NOTICE 'cancelled % future bookings of "User" %', cancelled, target_user;
    RETURN cancelled;
END
$$;

-- CreateFunction
CREATE FUNCTION team_member_count(team integer) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM "Membership" m WHERE m."teamId" = team AND m.accepted
$$;

-- CreateFunction
-- A payment marks its booking paid.
CREATE FUNCTION payment_marks_booking_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.success AND NOT NEW.refunded THEN
        UPDATE "Booking" SET paid = true WHERE id = NEW."bookingId";
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER "Payment_marks_paid" AFTER INSERT OR UPDATE OF success ON "Payment"
    FOR EACH ROW EXECUTE FUNCTION payment_marks_booking_paid();

-- Row level security for the platform API's role
ALTER TABLE "Booking" ENABLE ROW LEVEL SECURITY;
CREATE POLICY booking_owner ON "Booking" TO app_user
    USING ("userId" = nullif(current_setting('app.user_id', true), '')::integer);
ALTER TABLE "Attendee" ENABLE ROW LEVEL SECURITY;
CREATE POLICY attendee_of_own_booking ON "Attendee" TO app_user
    USING (EXISTS (SELECT 1 FROM "Booking" b WHERE b.id = "Attendee"."bookingId"
                    AND b."userId" = nullif(current_setting('app.user_id', true), '')::integer));

ALTER TABLE "Availability" ADD CONSTRAINT "Availability_time_order" CHECK ("startTime" <= "endTime" OR "endTime" = '00:00');

-- Grants
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_user;
GRANT SELECT ON "BookingTimeStatus" TO app_user;
