"""Invoice worker: sends every Invoice to its Customer (a docstring, not SQL)."""
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.orm import declarative_base

from .models.Invoice import render  # an import path, not a table

Base = declarative_base()
metadata = MetaData()

line_items = Table(
    "LineItem",
    metadata,
    Column("id", String, primary_key=True),
    Column("unitPrice", Integer),
)


class Invoice(Base):  # the class name Invoice is not the table
    __tablename__ = "Invoice"

    id = Column(String, primary_key=True)
    issued_on = Column("issuedOn", String)


def overdue(conn, customer_id):
    # SELECT * FROM "Invoice" in a comment is not code
    return conn.execute(text('SELECT id FROM "Invoice" WHERE "customerId" = :cid AND "issuedOn" < now()'), {"cid": customer_id})


def totals(cur):
    cur.execute("""
        SELECT li."invoiceId", sum(li."unitPrice")
        FROM "LineItem" li
        GROUP BY 1
    """)
    cur.execute("SELECT count(*) FROM customer")  # unquoted: the table customer
    return f"Welcome, Customer {cur.rowcount}: {render('Invoice')}"


def archive(conn):
    """Moves old rows: DELETE FROM "Invoice" WHERE "issuedOn" < now(), in batches."""
    # conn.execute(text('DELETE FROM "Invoice"'))
    return conn
