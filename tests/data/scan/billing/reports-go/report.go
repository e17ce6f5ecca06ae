package reports

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// Invoice is the report's row; the "Invoice" table is read below.
type Invoice struct {
	ID       string
	IssuedOn string
}

const totalsSQL = `SELECT i.id, i."issuedOn", sum(li."unitPrice")
FROM "Invoice" AS i
JOIN "LineItem" AS li ON li."invoiceId" = i.id
GROUP BY i.id`

func Totals(ctx context.Context, db *sql.DB) (*sql.Rows, error) {
	return db.QueryContext(ctx, totalsSQL)
}

func ByCustomer(ctx context.Context, db *sql.DB, id string) *sql.Row {
	fmt.Println("Invoice report for Customer", id)
	return db.QueryRowContext(ctx, "SELECT count(*) FROM \"Invoice\" WHERE \"customerId\" = $1", id)
}

func Customers(g *gorm.DB) *gorm.DB {
	return g.Table("Customer").Where("id = ?", 1)
}

// Before GORM: db.Table("Customer"); /* db.Query(`SELECT * FROM "Invoice"`) */
