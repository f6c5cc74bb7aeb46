package storagetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/postgres"
	"github.com/kopilka/kopilka/storage/sqlite"
)

// openAt opens a fresh database of the dialect migrated only up to version,
// as an older release left it.
func openAt(t *testing.T, dialect string, version int) *storage.DB {
	t.Helper()
	var raw *sql.DB
	var d storage.Dialect
	var err error
	switch dialect {
	case "sqlite":
		raw, err = sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=foreign_keys(1)&_txlock=immediate")
		d = sqlite.Dialect()
	case "postgres":
		raw, err = postgres.Connect(Schema(t))
		d = postgres.Dialect()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	db := storage.New(raw, d)
	if _, err := db.MigrateTo(context.Background(), version); err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
	return db
}

// TestUpgrade_ReceiptsTakeTheirPartner loads purchases, lines and refunds
// as release 0006 stored them (a receipt id unique across partners) and
// upgrades: each is keyed by its partner, found under it, and another
// partner may then use the same receipt id.
func TestUpgrade_ReceiptsTakeTheirPartner(t *testing.T) {
	ctx := context.Background()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			db := openAt(t, d, 6)
			for _, q := range []string{
				`INSERT INTO partners (id, name, legal_id, status, categories, created_at, updated_at) VALUES ('p1', 'P1', '', 'active', '[]', 0, 0)`,
				`INSERT INTO stores (id, partner_id, name, address, time_zone, hours, status, created_at, updated_at) VALUES ('s1', 'p1', 'S1', '', 'UTC', '[]', 'open', 0, 0)`,
				// One purchase stored with its partner, one (from before 0004's back-fill ran) without.
				`INSERT INTO purchases (receipt_id, member_id, store_id, card_number, request_hash, status, tx_id, earn_lot_id, spends, quote, occurred_at, created_at, earned_reversed, partner_id)
				 VALUES ('r1', 'm1', 's1', NULL, 'h1', 'confirmed', 't1', NULL, '[]', '{"receipt_id":"r1","earned":5}', 10, 10, 0, 'p1')`,
				`INSERT INTO purchases (receipt_id, member_id, store_id, card_number, request_hash, status, tx_id, earn_lot_id, spends, quote, occurred_at, created_at, earned_reversed, partner_id)
				 VALUES ('r2', 'm1', 's1', NULL, 'h2', 'refunded', 't2', NULL, '[]', '{"receipt_id":"r2"}', 20, 20, 0, NULL)`,
				`INSERT INTO purchase_lines (receipt_id, line, sku, category, quantity, price, amount, earned, spent, refunded) VALUES ('r1', 1, 'A', '', 1000, 500, 500, 5, 0, 0)`,
				`INSERT INTO purchase_lines (receipt_id, line, sku, category, quantity, price, amount, earned, spent, refunded) VALUES ('r1', 2, 'B', '', 1000, 100, 100, 0, 0, 0)`,
				`INSERT INTO purchase_lines (receipt_id, line, sku, category, quantity, price, amount, earned, spent, refunded) VALUES ('r2', 1, 'C', '', 2000, 100, 200, 0, 0, 2000)`,
				`INSERT INTO refunds (receipt_id, refund_id, request_hash, tx_id, result, created_at) VALUES ('r2', 'f1', 'hf', 't3', '{"refund_id":"f1","earned_reversed":0}', 30)`,
			} {
				if _, err := db.SQL.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			err := db.View(ctx, func(tx *storage.Tx) error {
				for _, id := range []string{"r1", "r2"} {
					p, err := tx.Purchase(ctx, "p1", id)
					if err != nil {
						t.Fatalf("purchase %s after the upgrade: %v", id, err)
					}
					if p.PartnerID != "p1" || len(p.Lines) == 0 {
						t.Errorf("purchase %s after the upgrade: %+v", id, p)
					}
				}
				p, _ := tx.Purchase(ctx, "p1", "r1")
				if len(p.Lines) != 2 || p.Lines[1].SKU != "B" || p.Quote.Earned != 5 {
					t.Errorf("r1's lines after the upgrade: %+v", p.Lines)
				}
				r, err := tx.Refund(ctx, "p1", "r2", "f1")
				if err != nil || r.TxID != "t3" || r.PartnerID != "p1" {
					t.Errorf("r2's refund after the upgrade: %+v %v", r, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Another partner may now use r1.
			if _, err := db.SQL.ExecContext(ctx, `INSERT INTO purchases (receipt_id, member_id, store_id, request_hash, status, tx_id, spends, quote, occurred_at, created_at, earned_reversed, partner_id)
				VALUES ('r1', 'm1', 's9', 'h', 'confirmed', 't9', '[]', '{}', 1, 1, 0, 'p2')`); err != nil {
				t.Fatalf("a second partner's r1: %v", err)
			}
		})
	}
}
