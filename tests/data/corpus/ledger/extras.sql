-- Hand-written migrations after Prisma's initial one (prisma/migrations/*/migration.sql).

-- CreateFunction
-- Supabase-style helper: the signed-in user of the request.
CREATE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;

-- CreateFunction
CREATE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" := clock_timestamp();
    RETURN NEW;
END $$;

CREATE TRIGGER "User_updated_at" BEFORE UPDATE ON auth."User" FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER "Account_updated_at" BEFORE UPDATE ON public."Account" FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER "Transaction_updated_at" BEFORE UPDATE ON public."Transaction" FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- Postings are partitioned by month (the 2026-02 migration): Prisma's table is replaced
-- by a partitioned one with the same columns, keys and names; the cron job adds a month
-- ahead with create_monthly_partition().
-- AlterTable
ALTER TABLE public."Posting" RENAME TO "Posting_unpartitioned";
ALTER TABLE public."Posting_unpartitioned" RENAME CONSTRAINT "Posting_pkey" TO "Posting_unpartitioned_pkey";
ALTER TABLE public."Posting_unpartitioned" DROP CONSTRAINT "Posting_journalId_fkey";
ALTER TABLE public."Posting_unpartitioned" DROP CONSTRAINT "Posting_accountId_fkey";
DROP INDEX public."Posting_accountId_postedAt_idx";
DROP INDEX public."Posting_journalId_idx";
ALTER SEQUENCE public."Posting_id_seq" OWNED BY NONE;
DROP TABLE public."Posting_unpartitioned";

CREATE TABLE public."Posting" (
    "id" BIGINT NOT NULL DEFAULT nextval('public."Posting_id_seq"'),
    "journalId" BIGINT NOT NULL,
    "accountId" UUID NOT NULL,
    "direction" public."PostingDirection" NOT NULL,
    "amount" DECIMAL(19,4) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "postedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Posting_pkey" PRIMARY KEY ("id", "postedAt"),
    CONSTRAINT "Posting_amount_positive" CHECK (amount > 0)
) PARTITION BY RANGE ("postedAt");
ALTER SEQUENCE public."Posting_id_seq" OWNED BY public."Posting"."id";
CREATE INDEX "Posting_accountId_postedAt_idx" ON public."Posting"("accountId", "postedAt");
CREATE INDEX "Posting_journalId_idx" ON public."Posting"("journalId");
ALTER TABLE public."Posting" ADD CONSTRAINT "Posting_journalId_fkey" FOREIGN KEY ("journalId") REFERENCES public."Journal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE public."Posting" ADD CONSTRAINT "Posting_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES public."Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- CreateFunction
-- Partition maintenance (dynamic SQL on the table it is given, never a fixed name).
CREATE FUNCTION public.create_monthly_partition(parent regclass, month date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    part text := (SELECT relname FROM pg_class WHERE oid = parent) || '_' || to_char(month, 'YYYY_MM');
    nsp text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent);
BEGIN
    IF month <> date_trunc('month', month)::date THEN
        RAISE EXCEPTION 'partition bounds must start on the first of a month, not %', month;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                   nsp, part, parent, month, (month + interval '1 month')::date);
    RETURN part;
END $$;

SELECT public.create_monthly_partition('public."Posting"', d::date)
  FROM generate_series(date '2025-12-01', date '2026-03-01', interval '1 month') d;
CREATE TABLE public."Posting_default" PARTITION OF public."Posting" DEFAULT;

-- CreateFunction
-- Every posting moves its account's cached balance.
CREATE FUNCTION public.apply_posting() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "Account"
       SET balance = balance + CASE NEW.direction WHEN 'DEBIT' THEN NEW.amount ELSE -NEW.amount END
     WHERE id = NEW."accountId";
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Account % not found for posting %', NEW."accountId", NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER "Posting_apply" AFTER INSERT ON public."Posting"
    FOR EACH ROW EXECUTE FUNCTION public.apply_posting();

-- CreateFunction
-- Audit trail of account changes, in the auth schema's log.
CREATE FUNCTION public.audit_account() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, auth AS $$
BEGIN
    INSERT INTO auth.audit_log_entries ("userId", action, payload)
    VALUES (auth.uid(), 'account.' || lower(TG_OP),
            jsonb_build_object('account', coalesce(NEW.id, OLD.id), 'old', to_jsonb(OLD), 'new', to_jsonb(NEW)));
    RETURN coalesce(NEW, OLD);
END $$;

CREATE TRIGGER "Account_audit" AFTER INSERT OR UPDATE OR DELETE ON public."Account"
    FOR EACH ROW EXECUTE FUNCTION public.audit_account();

-- CreateFunction
CREATE FUNCTION public.journal_is_balanced(journal bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    -- reads "Posting" (all partitions)
    SELECT coalesce(sum(CASE direction WHEN 'DEBIT' THEN amount ELSE -amount END), 0) = 0
      FROM public."Posting" WHERE "journalId" = journal
$$;

-- CreateFunction
CREATE FUNCTION public.net_worth(family uuid, on_day date DEFAULT current_date) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total numeric;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM "Family" WHERE id = family) THEN
        RAISE EXCEPTION 'Family % not found', family;
    END IF;
    -- reads "AccountBalance" and "Account"; liabilities count negative
    SELECT coalesce(sum(CASE WHEN a.kind IN ('CREDIT', 'LOAN', 'OTHER_LIABILITY') THEN -b.balance ELSE b.balance END), 0)
      INTO total
      FROM "Account" a
      JOIN LATERAL (SELECT balance FROM "AccountBalance" ab WHERE ab."accountId" = a.id AND ab.date <= on_day
                     ORDER BY ab.date DESC LIMIT 1) b ON true
     WHERE a."familyId" = family AND a."isActive";
    RETURN total;
END $$;

-- CreateView
CREATE VIEW public.account_latest_balance AS
SELECT DISTINCT ON (ab."accountId") ab."accountId", a.name, a.kind, ab.date, ab.balance, ab.currency
FROM public."AccountBalance" ab JOIN public."Account" a ON a.id = ab."accountId"
ORDER BY ab."accountId", ab.date DESC;

CREATE VIEW public."MonthlySpending" AS
SELECT t."accountId", date_trunc('month', t.date)::date AS month, c.name AS category, sum(t.amount) AS spent
FROM public."Transaction" t LEFT JOIN public."Category" c ON c.id = t."categoryId"
WHERE NOT t.excluded
GROUP BY 1, 2, 3;

-- Row level security: a family sees only its own data; a user only their sessions
ALTER TABLE public."Account" ENABLE ROW LEVEL SECURITY;
CREATE POLICY family_accounts ON public."Account" TO app_user
    USING (EXISTS (SELECT 1 FROM public."FamilyMember" fm WHERE fm."familyId" = "Account"."familyId" AND fm."userId" = auth.uid()));
ALTER TABLE public."Transaction" ENABLE ROW LEVEL SECURITY;
CREATE POLICY family_transactions ON public."Transaction" TO app_user
    USING (EXISTS (SELECT 1 FROM public."Account" a JOIN public."FamilyMember" fm ON fm."familyId" = a."familyId"
                    WHERE a.id = "Transaction"."accountId" AND fm."userId" = auth.uid()));
ALTER TABLE auth."Session" ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_sessions ON auth."Session" FOR SELECT TO app_user USING ("userId" = auth.uid());

ALTER TABLE public."Transfer" ADD CONSTRAINT "Transfer_distinct_accounts" CHECK ("fromAccountId" <> "toAccountId");
ALTER TABLE public.exchange_rates ADD CONSTRAINT exchange_rates_rate_positive CHECK (rate > 0);

-- Grants
GRANT USAGE ON SCHEMA auth, public TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_user;
GRANT SELECT ON ALL TABLES IN SCHEMA auth TO app_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, auth TO app_user;
GRANT EXECUTE ON FUNCTION auth.uid(), public.net_worth(uuid, date), public.journal_is_balanced(bigint) TO app_user;
