package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kopilka/kopilka/storage"
)

// runSession runs fn on the pgx connection beneath a pooled database/sql
// connection. A transaction then costs fewer round trips: BEGIN travels in
// one pipeline with the first statement, and COMMIT with the last writes.
func runSession(ctx context.Context, db *sql.DB, fn func(storage.Session) error) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(driverConn any) error {
		dc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: driver connection is %T, not pgx", driverConn)
		}
		s := &session{conn: dc.Conn()}
		err := fn(s)
		if err != nil && s.begun && !s.done {
			_ = s.Rollback(ctx)
		}
		return err
	})
}

// session is one transaction on a pgx connection. It begins lazily.
type session struct {
	conn  *pgx.Conn
	begun bool // BEGIN has been sent
	done  bool // COMMIT or ROLLBACK has been sent
}

// first sends BEGIN and the statement in one pipeline when the transaction
// has not begun; the caller reads the statement's result and closes it.
func (s *session) first(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
	var b pgx.Batch
	b.Queue("begin")
	b.Queue(query, args...)
	br := s.conn.SendBatch(ctx, &b)
	s.begun = true
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, err
	}
	return br, nil
}

func (s *session) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if !s.begun {
		br, err := s.first(ctx, query, args)
		if err != nil {
			return 0, err
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return tag.RowsAffected(), err
	}
	tag, err := s.conn.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (s *session) Query(ctx context.Context, query string, args ...any) (storage.Rows, error) {
	if !s.begun {
		br, err := s.first(ctx, query, args)
		if err != nil {
			return nil, err
		}
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return nil, err
		}
		return batchRows{rows, br}, nil
	}
	return s.conn.Query(ctx, query, args...)
}

func (s *session) QueryRow(ctx context.Context, query string, args ...any) storage.Scanner {
	rows, err := s.Query(ctx, query, args...)
	if err != nil {
		return errRow{err}
	}
	return row{rows}
}

// Commit sends the last writes and COMMIT in one pipeline. PostgreSQL answers
// a COMMIT of a failed transaction with ROLLBACK and no error; that is an error here.
func (s *session) Commit(ctx context.Context, query string, args []any) error {
	s.done = true
	if !s.begun && query == "" {
		return nil // nothing was sent, nothing to commit
	}
	var b pgx.Batch
	if !s.begun {
		b.Queue("begin")
	}
	if query != "" {
		b.Queue(query, args...)
	}
	b.Queue("commit")
	br := s.conn.SendBatch(ctx, &b)
	var err error
	for i := 0; i < b.Len() && err == nil; i++ {
		var tag interface{ String() string }
		t, e := br.Exec()
		tag, err = t, e
		if err == nil && i == b.Len()-1 && tag.String() != "COMMIT" {
			err = errors.New("postgres: the transaction was rolled back at commit")
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// After an error in the pipeline the COMMIT never ran: end the transaction.
		_, _ = s.conn.Exec(context.WithoutCancel(ctx), "rollback")
	}
	return err
}

func (s *session) Rollback(ctx context.Context) error {
	if !s.begun || s.done {
		return nil
	}
	s.done = true
	_, err := s.conn.Exec(context.WithoutCancel(ctx), "rollback")
	return err
}

// batchRows closes the pipeline after its rows.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

// row reads the first row of rows, like *sql.Row.
type row struct{ rows storage.Rows }

func (r row) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
