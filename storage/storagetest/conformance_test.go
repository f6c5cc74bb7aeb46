package storagetest

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/postgres"
	"github.com/kopilka/kopilka/storage/sqlite"
)

func TestConformance(t *testing.T) {
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			Run(t, func(t *testing.T) *storage.DB { return Open(t, d) })
		})
	}
}

// released are the migrations installations have applied: schema_migrations
// holds these versions and names, so they must never change (a new
// migration takes the next number).
var released = []string{"0001_init", "0002_rules", "0003_partners", "0004_partner_backfill", "0005_access"}

// TestMigrations_EveryDialectReachesOneLatestVersion checks that every
// dialect numbers its migrations 1, 2, 3, … with no gap, under the same
// names, up to one latest version; that released migrations keep their
// names; and that every dialect-specific file is for a dialect we have.
func TestMigrations_EveryDialectReachesOneLatestVersion(t *testing.T) {
	dialects := []string{sqlite.Dialect().Name, postgres.Dialect().Name}
	var first []storage.Migration
	for _, d := range dialects {
		ms, err := storage.Migrations(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if len(ms) < len(released) {
			t.Fatalf("%s has %d migrations, fewer than the %d released", d, len(ms), len(released))
		}
		for i, m := range ms {
			if m.Version != i+1 {
				t.Fatalf("%s: migration %s (%s) is number %d in order, not %d: a gap or a repeat", d, m.Name, m.File, i+1, m.Version)
			}
			if i < len(released) && m.Name != released[i] {
				t.Errorf("%s: released migration %d is named %s, was %s", d, m.Version, m.Name, released[i])
			}
		}
		if first == nil {
			first = ms
			continue
		}
		if len(ms) != len(first) {
			t.Errorf("%s reaches version %d, %s version %d", dialects[0], len(first), d, len(ms))
		}
		for i := range min(len(ms), len(first)) {
			if ms[i].Name != first[i].Name {
				t.Errorf("migration %d: %s names it %s, %s %s", i+1, dialects[0], first[i].Name, d, ms[i].Name)
			}
		}
	}
	files, err := fs.Glob(storage.MigrationFiles(), "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, _, d, err := storage.ParseMigrationFile(f); err != nil {
			t.Error(err)
		} else if d != "" && !slices.Contains(dialects, d) {
			t.Errorf("migration %s is for dialect %q; there are %v", f, d, dialects)
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
