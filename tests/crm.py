"""A small database that is not the fixture: two tables in schema ``crm`` (not public), a
foreign key without ON DELETE CASCADE, a custom-named index, and its mapping."""

DDL = """
CREATE SCHEMA crm;
CREATE TABLE crm."Account" (id int CONSTRAINT "Account_pkey" PRIMARY KEY, "displayName" text);
CREATE TABLE crm."Contact" (id int PRIMARY KEY, "accountId" int REFERENCES crm."Account", email text);
CREATE INDEX "Contact_email_idx" ON crm."Contact" (email);
INSERT INTO crm."Account" SELECT g, 'a' || g FROM generate_series(1, 50) g;
INSERT INTO crm."Contact" SELECT g, 1 + g % 50, 'c' || g FROM generate_series(1, 200) g;
"""
MAPPING = """
schema = "crm"
[[tables]]
from = "Account"
to = "accounts"
[[tables]]
from = "Contact"
to = "contacts"
"""
