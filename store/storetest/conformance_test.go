package storetest

import (
	"testing"

	"github.com/kopilka/kopilka/store/postgres"
	"github.com/kopilka/kopilka/store/sqlite"
	"github.com/kopilka/kopilka/store/sqlstore"
)

func TestConformance(t *testing.T) {
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			Run(t, func(t *testing.T) *sqlstore.DB { return Open(t, d) })
		})
	}
}

// TestMigrations_DialectsStayInStep checks that every dialect has the same
// migration versions, with no gaps, so that both reach one schema.
func TestMigrations_DialectsStayInStep(t *testing.T) {
	lite, err := sqlstore.Migrations(sqlite.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	pg, err := sqlstore.Migrations(postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != i+1 || pg[i].Version != i+1 || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i+1, lite[i].Name, pg[i].Name)
		}
	}
}

// TestMigrate_TwiceIsANoOp checks that opening a migrated database again
// applies nothing.
func TestMigrate_TwiceIsANoOp(t *testing.T) {
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			db := Open(t, d)
			applied, err := db.Migrate(t.Context())
			if err != nil || len(applied) != 0 {
				t.Fatalf("second migrate applied %v, err %v", applied, err)
			}
		})
	}
}
