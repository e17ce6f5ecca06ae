// Invoices service: reads the "Invoice" table (after the rename: invoices).
// SELECT * FROM "Invoice" -- this comment is not code
import { Invoice } from "./models/Invoice";
import type { LineItem } from "../generated/LineItem";
import { db, knex, prisma } from "./db";

export type TableName = "Invoice" | "LineItem";

export class InvoiceView implements Invoice {
  title = "Invoice";
  greeting(name: string): string {
    return `Welcome, Customer ${name}! Your Invoice is ready.`;
  }
}

export async function unpaid(customerId: string): Promise<Invoice[]> {
  return prisma.$queryRaw<Invoice[]>`
    SELECT i.id, i."issuedOn", c."fullName"
    FROM "Invoice" i JOIN "Customer" c ON c.id = i."customerId"
    WHERE i."customerId" = ${customerId} AND i.status <> 'Invoice'`;
}

export async function zero(invoiceId: string, items: LineItem[]) {
  await prisma.$executeRaw`UPDATE "LineItem" SET "unitPrice" = 0 WHERE "invoiceId" = ${invoiceId}`;
  return prisma.$queryRawUnsafe('SELECT sum("unitPrice") FROM "LineItem" WHERE "invoiceId" = $1', invoiceId);
}

export function recent() {
  return db.selectFrom("Invoice").select(["id", "issuedOn"]).where("issuedOn", ">", new Date(0)).execute();
}

export function items(invoiceId: string) {
  return knex("LineItem").where({ invoiceId }).join("Invoice", "Invoice.id", "LineItem.invoiceId").select("LineItem.unitPrice");
}

export function copy(row: Record<string, unknown>) {
  return knex("Invoice").insert({ "issuedOn": row.issuedOn });
}

export const legacy = () => knex.raw('SELECT * FROM invoice WHERE true'); // unquoted: the table invoice
export const confirm = (n: number) => window.confirm(`Delete "Invoice" ${n}? This cannot be undone.`);
export const pattern = /"Invoice"/g;
// old code: knex("Invoice").select("issuedOn")
/* prisma.$queryRaw`SELECT * FROM "LineItem"` */
