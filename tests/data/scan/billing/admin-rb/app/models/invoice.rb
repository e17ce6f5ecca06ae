# The "Invoice" model of the admin app (a comment: not a reference).
class Invoice < ApplicationRecord
  self.table_name = "Invoice"

  def self.with_items
    find_by_sql(<<~SQL)
      SELECT "Invoice".* FROM "Invoice"
      JOIN "LineItem" ON "LineItem"."invoiceId" = "Invoice".id
      WHERE "LineItem"."unitPrice" > 0
    SQL
  end

  def self.customer_count
    connection.select_value('SELECT count(*) FROM "Customer"')
  end

  def label
    "Invoice ##{id} for Customer"
  end
end
# self.table_name = "Invoice"
=begin
connection.execute('SELECT * FROM "LineItem"')
=end
