-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateFunction
CREATE OR REPLACE FUNCTION public.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" = now();
    RETURN NEW;
END $$;

CREATE TRIGGER "Order_touch_updated_at" BEFORE UPDATE ON public."Order"
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();
CREATE TRIGGER "Cart_touch_updated_at" BEFORE UPDATE ON public."Cart"
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();
CREATE TRIGGER "Product_touch_updated_at" BEFORE UPDATE ON public."Product"
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();
CREATE TRIGGER "ProductVariant_touch_updated_at" BEFORE UPDATE ON public."ProductVariant"
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

-- CreateFunction
-- Audit trigger in the billing schema writing to public."AuditLog".
CREATE OR REPLACE FUNCTION billing.log_payment_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public."AuditLog" (actor, action, entity, "entityId", details)
    VALUES (current_user, lower(TG_OP), 'payment', NEW.id,
            jsonb_build_object('status', NEW.status, 'amount', NEW.amount, 'order', NEW."orderId"));
    RETURN NEW;
END $$;

CREATE TRIGGER payment_audit AFTER INSERT OR UPDATE OF status ON billing."Payment"
    FOR EACH ROW EXECUTE FUNCTION billing.log_payment_change();

-- CreateFunction
-- Counter trigger on the implicit many-to-many table between discounts and orders.
CREATE OR REPLACE FUNCTION public.count_discount_usage() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE "Discount" SET "usageCount" = "usageCount" + 1 WHERE id = NEW."A";
    ELSE
        UPDATE "Discount" SET "usageCount" = "usageCount" - 1 WHERE id = OLD."A";
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER discount_usage AFTER INSERT OR DELETE ON public."_DiscountToOrder"
    FOR EACH ROW EXECUTE FUNCTION public.count_discount_usage();

-- CreateFunction
-- Reservations hold stock at the first location that stocks the item.
CREATE OR REPLACE FUNCTION public.reserve_inventory() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    level record;
BEGIN
    SELECT * INTO level FROM "InventoryLevel"
     WHERE "inventoryItemId" = NEW."inventoryItemId"
     ORDER BY "stockedQuantity" - "reservedQuantity" DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'InventoryItem % is not stocked at any "StockLocation"', NEW."inventoryItemId";
    END IF;
    UPDATE "InventoryLevel" SET "reservedQuantity" = "reservedQuantity" + NEW.quantity
     WHERE "inventoryItemId" = level."inventoryItemId" AND "locationId" = level."locationId";
    RETURN NEW;
END $$;

CREATE TRIGGER reservation_holds_stock AFTER INSERT ON public."ReservationItem"
    FOR EACH ROW EXECUTE FUNCTION public.reserve_inventory();

-- CreateFunction
-- Nightly job (pg_cron): rebuild yesterday's analytics.daily_sales row per currency.
CREATE OR REPLACE FUNCTION analytics.refresh_daily_sales(for_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF for_day > current_date THEN
        RAISE EXCEPTION 'cannot aggregate the future (%)', for_day;
    END IF;
    -- reads "Order" (public) and writes daily_sales (analytics)
    DELETE FROM analytics.daily_sales WHERE day = for_day;
    INSERT INTO analytics.daily_sales (day, "currencyCode", orders, revenue)
    SELECT for_day, o."currencyCode", count(*), sum(o.total)
      FROM public."Order" o
     WHERE o."createdAt" >= for_day AND o."createdAt" < for_day + 1 AND o.status <> 'CANCELED'
     GROUP BY o."currencyCode";
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- CreateFunction
CREATE OR REPLACE FUNCTION billing.invoice_total(invoice text) RETURNS integer
LANGUAGE sql STABLE SET search_path = billing, public AS $$
    SELECT coalesce(sum(amount), 0)::integer FROM invoice_lines WHERE "invoiceId" = invoice
$$;

-- CreateFunction
CREATE OR REPLACE FUNCTION public.customer_lifetime_value(customer text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM "Customer" WHERE id = customer) THEN
        RAISE EXCEPTION 'Customer % not found', customer USING ERRCODE = 'no_data_found';
    END IF;
    SELECT coalesce(sum(p.amount), 0) INTO v
      FROM billing."Payment" p JOIN "Order" o ON o.id = p."orderId"
     WHERE o."customerId" = customer AND p.status = 'CAPTURED';
    RETURN v;
END $$;

-- CreateView
CREATE VIEW analytics.product_sales AS
SELECT v."productId", li."variantId", sum(li.quantity) AS units, sum(li.quantity * li."unitPrice") AS revenue
FROM public."LineItem" li
JOIN public."Order" o ON o.id = li."orderId"
JOIN public."ProductVariant" v ON v.id = li."variantId"
WHERE o.status IN ('PENDING', 'COMPLETED')
GROUP BY v."productId", li."variantId";

CREATE VIEW public."CustomerOrderSummary" AS
SELECT c.id AS "customerId", c.email, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent,
       max(o."createdAt") AS "lastOrderAt"
FROM public."Customer" c LEFT JOIN public."Order" o ON o."customerId" = c.id
GROUP BY c.id, c.email;

-- CHECK constraints
ALTER TABLE public."Order" ADD CONSTRAINT "Order_total_nonnegative" CHECK (total >= 0);
ALTER TABLE public."MoneyAmount" ADD CONSTRAINT "MoneyAmount_amount_check" CHECK (amount >= 0);
ALTER TABLE public."ProductReview" ADD CONSTRAINT "ProductReview_rating_check" CHECK (rating BETWEEN 1 AND 5);
ALTER TABLE billing."Refund" ADD CONSTRAINT "Refund_amount_check" CHECK (amount > 0);

-- Row level security on billing data
ALTER TABLE billing."Invoice" ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoice_by_customer ON billing."Invoice" FOR SELECT TO app_user
    USING ("customerId" = current_setting('app.billing_customer', true));
CREATE POLICY invoice_service_writes ON billing."Invoice" FOR INSERT TO app_user
    WITH CHECK (status = 'draft');

-- Grants
GRANT USAGE ON SCHEMA public, billing, analytics TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA billing TO app_user;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO app_user;
GRANT INSERT ON analytics."PageView", analytics."FunnelEvent", analytics."VisitSession" TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, billing, analytics TO app_user;
