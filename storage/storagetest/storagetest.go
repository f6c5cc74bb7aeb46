// Package storagetest opens fresh test databases of every dialect and holds
// the conformance suite every dialect must pass.
//
// SQLite always runs, in a file under t.TempDir(). PostgreSQL runs when
// KOPILKA_TEST_DATABASE_URL is set; each test gets a schema of its own,
// dropped when the test ends.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/postgres"
	"github.com/kopilka/kopilka/storage/sqlite"
)

// EnvURL names the variable that holds the test PostgreSQL's URL.
const EnvURL = "KOPILKA_TEST_DATABASE_URL"

// Dialects lists the databases the tests run against here.
func Dialects() []string {
	if os.Getenv(EnvURL) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Open returns a migrated, empty store of the dialect, closed (and dropped)
// when the test ends.
func Open(t testing.TB, dialect string) *storage.DB {
	t.Helper()
	ctx := context.Background()
	var db *storage.DB
	var err error
	switch dialect {
	case "sqlite":
		db, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "kopilka.db"))
	case "postgres":
		db, err = postgres.Open(ctx, Schema(t), 30)
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Schema creates a PostgreSQL schema for the test and returns a database URL
// whose connections use it; the schema is dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "kt_" + hex.EncodeToString(b[:])
	admin, err := postgres.Connect(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + name
}
