// Package postgres opens Kopilka's database on PostgreSQL through pgx v5.
// The SQL it runs is also what CockroachDB and YugabyteDB accept: row locks
// with FOR UPDATE, no advisory locks, and retries on 40001 and 40P01.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kopilka/kopilka/storage"
)

// Dialect describes PostgreSQL to the shared store.
func Dialect() storage.Dialect {
	return storage.Dialect{
		Name:        "postgres",
		ForUpdate:   " FOR UPDATE",
		Fold:        "LOWER",
		WritableCTE: true,
		Session:     runSession,
		Retryable: func(err error) bool {
			var e *pgconn.PgError
			// serialization_failure, deadlock_detected
			return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
		},
		Violation: func(err error) (string, bool, bool) {
			var e *pgconn.PgError
			// unique_violation, check_violation
			if errors.As(err, &e) && (e.Code == "23505" || e.Code == "23514") {
				return e.ConstraintName, e.Code == "23505", true
			}
			return "", false, false
		},
	}
}

// Open connects to the database at url ("postgres://…"; extra URL
// parameters such as search_path become session settings) and migrates it.
func Open(ctx context.Context, url string, maxConns int) (*storage.DB, error) {
	cfg, err := pgconnConfig(url)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := storage.New(db, Dialect())
	if _, err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Connect opens a plain connection pool, for tests and tools.
func Connect(url string) (*sql.DB, error) {
	cfg, err := pgconnConfig(url)
	if err != nil {
		return nil, err
	}
	return stdlib.OpenDB(*cfg), nil
}
