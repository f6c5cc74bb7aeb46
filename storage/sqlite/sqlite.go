// Package sqlite opens Kopilka's database in an embedded SQLite file through
// modernc.org/sqlite, a pure-Go SQLite: no cgo, one static binary.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kopilka/kopilka/storage"
)

// foldFunction lowers text in every alphabet: SQLite's own LOWER knows ASCII
// alone. Registered once for every connection the driver opens.
const foldFunction = "kopilka_fold"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(foldFunction, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		default:
			return v, nil
		}
	})
}

// Dialect describes SQLite to the shared store.
func Dialect() storage.Dialect {
	return storage.Dialect{
		Name: "sqlite",
		// SQLite has no row locks: BEGIN IMMEDIATE takes the database's one
		// write lock, which covers every row a transaction reads.
		ForUpdate:       "",
		Fold:            foldFunction,
		SerializeWrites: true,
		Retryable: func(err error) bool {
			var e *sqlite.Error
			if !errors.As(err, &e) {
				return false
			}
			c := e.Code() & 0xff
			return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
		},
		Violation: func(err error) (string, bool, bool) {
			var e *sqlite.Error
			if !errors.As(err, &e) {
				return "", false, false
			}
			unique := e.Code() != sqlite3.SQLITE_CONSTRAINT_CHECK
			switch e.Code() {
			case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_CHECK:
				// "UNIQUE constraint failed: members.phone", "CHECK constraint failed: balances_available_check"
				msg := e.Error()
				if i := strings.LastIndex(msg, "failed: "); i >= 0 {
					name := msg[i+len("failed: "):]
					if j := strings.IndexAny(name, " ,)"); j >= 0 {
						name = name[:j]
					}
					return name, unique, true
				}
				return msg, unique, true
			}
			return "", false, false
		},
	}
}

// Open opens (creating if need be) the SQLite file at path and migrates it.
// The database runs in WAL mode with full fsync, so that a confirmed
// purchase survives a power cut; writers take turns in this process.
func Open(ctx context.Context, path string) (*storage.DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := storage.New(db, Dialect())
	if _, err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}
