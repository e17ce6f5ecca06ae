-- Totals per invoice: reads "Invoice" and "LineItem" (this comment is not a reference)
CREATE OR REPLACE VIEW invoice_totals AS
SELECT i.id, i."issuedOn", sum(li."unitPrice") AS total, 'Invoice' AS label
FROM "Invoice" i
JOIN "LineItem" li ON li."invoiceId" = i.id
GROUP BY i.id, i."issuedOn";

SELECT count(*) FROM invoice;  -- unquoted: the table invoice, not "Invoice"
SELECT * FROM legacy."Customer";  -- another schema

CREATE OR REPLACE FUNCTION touch_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Invoice" SET "issuedOn" = now() WHERE id = NEW."invoiceId"; -- "LineItem" in a comment
  RAISE NOTICE 'touched "Customer"';
  RETURN NEW;
END $$;
