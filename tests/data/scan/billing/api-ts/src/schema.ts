import { integer, pgTable, text } from "drizzle-orm/pg-core";

// drizzle's view of the tables: pgTable("Invoice") below must follow the rename
export const invoices = pgTable("Invoice", {
  id: text("id").primaryKey(),
  issuedOn: text("issuedOn"),
});

export const lineItems = pgTable("line_items", {
  id: text("id").primaryKey(),
  unitPrice: integer("unitPrice"),
});
