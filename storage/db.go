// Package storage is the database of every use case, in plain SQL over database/sql.
// The SQL is kept to what SQLite, PostgreSQL and the PostgreSQL-compatible
// distributed databases (CockroachDB, YugabyteDB) all run; what differs
// between them (row locks, error codes) is a Dialect, supplied by
// storage/sqlite and storage/postgres. The migrations are one set for every
// dialect, in migrations/ here (see Migrations).
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
)

// Dialect is what one database does differently.
type Dialect struct {
	// Name is "sqlite" or "postgres"; it also picks the migration files
	// written for this dialect alone (see Migrations).
	Name string
	// ForUpdate is appended to a SELECT that must lock the rows it reads.
	ForUpdate string
	// Fold names the SQL function that lowers text in every alphabet
	// (PostgreSQL's LOWER; SQLite's LOWER knows ASCII alone, so the sqlite
	// package registers its own): "Ольга" and "ольга" find each other.
	Fold string
	// SerializeWrites makes writers in this process take turns before the
	// database makes them (SQLite has one writer at a time anyway).
	SerializeWrites bool
	// WritableCTE says that data-modifying statements may stand in a WITH
	// clause, so that a batch of writes travels as one statement.
	WritableCTE bool
	// Retryable reports a serialization failure, deadlock or busy database.
	Retryable func(error) bool
	// Violation returns the name of the UNIQUE or CHECK constraint err broke,
	// as "table.column" or the constraint's own name, and whether it is UNIQUE.
	Violation func(error) (name string, unique, ok bool)
	// Session, when set, runs each read-write transaction on the driver's
	// own connection (PostgreSQL: pgx pipelines that send BEGIN with the
	// first statement and COMMIT with the last writes).
	Session func(ctx context.Context, db *sql.DB, fn func(Session) error) error
}

// DB is Kopilka's database over a *sql.DB. For gives each use-case
// package its narrow view of it.
type DB struct {
	SQL     *sql.DB
	dialect Dialect
	writeMu sync.Mutex
	// MaxRetries bounds how often Update runs a transaction again.
	MaxRetries int
}

// New wraps an open database; call Migrate before use.
func New(db *sql.DB, d Dialect) *DB {
	return &DB{SQL: db, dialect: d, MaxRetries: 20}
}

// For returns the database as the port T of a use-case package (for
// example purchases.Tx): Update and View hand fn the transaction through T.
// It panics when Tx does not implement T, so a wiring mistake stops the
// program at start-up, not at the first request.
func For[T any](db *DB) kopilka.Transactor[T] {
	if _, ok := any((*Tx)(nil)).(T); !ok {
		var zero *T
		panic(fmt.Sprintf("storage: *Tx does not implement %T", zero))
	}
	return port[T]{db}
}

type port[T any] struct{ db *DB }

func (p port[T]) Update(ctx context.Context, fn func(T) error) error {
	return p.db.Update(ctx, func(t *Tx) error { return fn(any(t).(T)) })
}

func (p port[T]) View(ctx context.Context, fn func(T) error) error {
	return p.db.View(ctx, func(t *Tx) error { return fn(any(t).(T)) })
}

// Close closes the database.
func (db *DB) Close() error { return db.SQL.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// Dialect returns the database's dialect name.
func (db *DB) Dialect() string { return db.dialect.Name }

// Querier runs statements of one session: a *sql.DB or *sql.Tx through
// SQLQuerier, or a dialect's own Session.
type Querier interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Scanner
}

// Rows is what *sql.Rows and pgx.Rows share.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Scanner reads one row.
type Scanner interface{ Scan(dest ...any) error }

// Session is a read-write transaction run on a database's own driver. Its
// first statement begins the transaction; Commit sends the last writes (sql
// may be empty) together with COMMIT.
type Session interface {
	Querier
	Commit(ctx context.Context, sql string, args []any) error
	Rollback(ctx context.Context) error
}

// SQLQuerier adapts database/sql.
type SQLQuerier struct {
	Q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (s SQLQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.Q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s SQLQuerier) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	r, err := s.Q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (s SQLQuerier) QueryRow(ctx context.Context, query string, args ...any) Scanner {
	return s.Q.QueryRowContext(ctx, query, args...)
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// Tx is one transaction (or, in View, one session without a transaction)
// over a querier; it implements every use-case package's Tx port.
type Tx struct {
	q       Querier
	d       *Dialect
	locking bool // inside a read-write transaction: lock what LockBalance reads
	// pending holds ledger writes not yet sent (see exec); they go out
	// before the next statement of the transaction or before its commit.
	pending batch
}

// row, query and execNow send pending writes first, so that every statement
// sees the transaction's own writes.
func (t *Tx) row(ctx context.Context, q string, args ...any) Scanner {
	if err := t.flush(ctx); err != nil {
		return errRow{err}
	}
	return t.q.QueryRow(ctx, q, args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.q.Query(ctx, q, args...)
}

func (t *Tx) execNow(ctx context.Context, q string, args ...any) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.q.Exec(ctx, q, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// flush sends the pending writes; a broken constraint becomes its domain error.
func (t *Tx) flush(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	b := t.pending
	t.pending = nil
	return t.mapErr(t.run(ctx, b), "ledger writes")
}

// View runs fn over the database without a transaction.
func (db *DB) View(ctx context.Context, fn func(*Tx) error) error {
	return fn(&Tx{q: SQLQuerier{db.SQL}, d: &db.dialect})
}

// Update runs fn in one transaction and commits it; a serialization
// failure, deadlock or busy database runs it again, at most MaxRetries times,
// after a short random pause.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	if db.dialect.SerializeWrites {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
	}
	for attempt := 0; ; attempt++ {
		err := db.update(ctx, fn)
		if err == nil || !db.dialect.Retryable(err) || attempt >= db.MaxRetries {
			if err != nil && db.dialect.Retryable(err) {
				return fmt.Errorf("gave up after %d attempts: %w", attempt+1, err)
			}
			return err
		}
		pause := time.Duration(rand.Int64N(int64(time.Millisecond)<<min(attempt, 6))) + time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	if db.dialect.Session != nil {
		return db.dialect.Session(ctx, db.SQL, func(s Session) error {
			t := &Tx{q: s, d: &db.dialect, locking: true}
			if err := fn(t); err != nil {
				_ = s.Rollback(ctx)
				return err
			}
			sql, args := t.pending.statement()
			t.pending = nil
			return t.mapErr(s.Commit(ctx, sql, args), "commit")
		})
	}
	sqlTx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &Tx{q: SQLQuerier{sqlTx}, d: &db.dialect, locking: true}
	err = fn(t)
	if err == nil {
		err = t.flush(ctx)
	}
	if err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Migrate applies the dialect's migrations that are not yet applied. Each
// runs in its own transaction together with its row in schema_migrations,
// so two instances starting at once cannot both apply one.
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	return db.MigrateTo(ctx, math.MaxInt)
}

// MigrateTo is Migrate up to and including version: for tests that load a
// database as an older release left it and then upgrade it.
func (db *DB) MigrateTo(ctx context.Context, version int) (applied []string, err error) {
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ms, err := Migrations(db.dialect.Name)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Version > version {
			break
		}
		done, err := db.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.File, err)
		}
		if done {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

func (db *DB) applyMigration(ctx context.Context, m Migration) (bool, error) {
	var exists int
	err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&exists)
	if err != nil || exists > 0 {
		return false, err
	}
	sqlTx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() { _ = sqlTx.Rollback() }()
	if _, err := sqlTx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		if _, unique, ok := db.dialect.Violation(err); ok && unique {
			return false, nil // another instance applied it first
		}
		return false, err
	}
	for _, stmt := range splitStatements(m.SQL) {
		if _, err := sqlTx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	return true, sqlTx.Commit()
}

// Migration is one schema change.
type Migration struct {
	Version int
	// Name is the file's name without the dialect and ".sql", "0003_partners":
	// what schema_migrations records, the same in every dialect.
	Name string
	// File is the file it was read from, "0003_partners.postgres.sql".
	File string
	SQL  string
}

// The migrations of every dialect. A file NNNN_name.sql holds SQL that every
// dialect runs. Where one dialect needs other SQL, a file
// NNNN_name.<dialect>.sql ("0003_partners.sqlite.sql", the dialect being
// Dialect.Name) sits beside the shared file of the same version and name and
// replaces it, whole, for that dialect; the other dialects keep running the
// shared file. A change only one dialect needs is a shared file with no
// statements (comments only) and that dialect's variant, so that every
// dialect counts the same versions under the same names.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationFiles returns the migrations directory: the shared files and the
// dialect variants.
func MigrationFiles() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Migrations returns the migrations the dialect runs, in version order: the
// shared files, each replaced by the dialect's variant where it has one.
func Migrations(dialect string) ([]Migration, error) {
	return readMigrations(MigrationFiles(), dialect)
}

// readMigrations reads the dialect's migrations from fsys (see Migrations).
func readMigrations(fsys fs.FS, dialect string) ([]Migration, error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	variants := map[string]string{} // the dialect a variant is for, by its file
	byVersion := map[int]string{}
	for _, f := range files {
		v, name, d, err := ParseMigrationFile(f)
		if err != nil {
			return nil, err
		}
		if d != "" {
			variants[f] = d
			continue
		}
		if other, ok := byVersion[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s have one version", other, f)
		}
		byVersion[v] = f
		ms = append(ms, Migration{Version: v, Name: name, File: f})
	}
	shared := map[string]*Migration{}
	for i := range ms {
		shared[ms[i].Name] = &ms[i]
	}
	for f, d := range variants {
		_, name, _, _ := ParseMigrationFile(f)
		m, ok := shared[name]
		if !ok {
			return nil, fmt.Errorf("migration %s: no shared file %s.sql beside it", f, name)
		}
		if d == dialect {
			m.File = f
		}
	}
	for i := range ms {
		b, err := fs.ReadFile(fsys, ms[i].File)
		if err != nil {
			return nil, err
		}
		ms[i].SQL = string(b)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// ParseMigrationFile splits a migration file's name, "0003_partners.sql" or
// "0003_partners.postgres.sql", into its version, 3, the migration's name,
// "0003_partners", and the dialect it is written for ("" when shared).
func ParseMigrationFile(file string) (version int, name, dialect string, err error) {
	bad := fmt.Errorf("migration %s: name must be NNNN_name.sql or NNNN_name.<dialect>.sql", file)
	base, ok := strings.CutSuffix(path.Base(file), ".sql")
	digits, rest, _ := strings.Cut(base, "_")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || rest == "" {
		return 0, "", "", bad
	}
	name, dialect, dotted := strings.Cut(base, ".")
	if dotted && (dialect == "" || strings.Contains(dialect, ".")) {
		return 0, "", "", bad
	}
	version, err = strconv.Atoi(digits)
	if err != nil {
		return 0, "", "", bad
	}
	return version, name, dialect, nil
}

// splitStatements splits a migration on semicolons at line ends; our
// migrations hold no semicolons inside statements.
func splitStatements(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		var lines []string
		for _, l := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if stmt := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";"); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// micros stores a time as microseconds since the epoch in UTC: the same
// BIGINT in every database, compared and indexed as a number.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func ptrMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return nullMicros(*t)
}

func fromPtrMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// collect reads every row a query returned with scan; what names the
// query in its error.
func collect[T any](rows Rows, err error, what string, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// notFound turns sql.ErrNoRows into ENOTFOUND.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return kopilka.Errorf(kopilka.ENOTFOUND, "%s not found", what)
	}
	return err
}

// violations maps a constraint to the domain error it means.
var violations = map[string]*kopilka.Error{
	"members_phone_key":        kopilka.FieldErr(kopilka.ECONFLICT, "phone", "another member has this phone"),
	"members.phone":            kopilka.FieldErr(kopilka.ECONFLICT, "phone", "another member has this phone"),
	"members_email_key":        kopilka.FieldErr(kopilka.ECONFLICT, "email", "another member has this e-mail"),
	"members.email":            kopilka.FieldErr(kopilka.ECONFLICT, "email", "another member has this e-mail"),
	"cards_pkey":               kopilka.FieldErr(kopilka.ECONFLICT, "card_number", "the card number is taken"),
	"operators_email_key":      kopilka.FieldErr(kopilka.ECONFLICT, "email", "another operator has this e-mail"),
	"operators.email":          kopilka.FieldErr(kopilka.ECONFLICT, "email", "another operator has this e-mail"),
	"cards.number":             kopilka.FieldErr(kopilka.ECONFLICT, "card_number", "the card number is taken"),
	"balances_available_check": kopilka.Errorf(kopilka.EINSUFFICIENT, "the member has too few points available"),
	"balances_pending_check":   kopilka.Errorf(kopilka.EINSUFFICIENT, "the member has too few pending points"),
}

// mapErr turns a broken constraint into its domain error. A unique
// constraint not in the table is a plain ECONFLICT; any other broken CHECK
// is a bug in the code above the store, and stays an internal error.
func (t *Tx) mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	name, unique, ok := t.d.Violation(err)
	if !ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	if e, ok := violations[name]; ok {
		c := *e
		return &c
	}
	if unique {
		return kopilka.Errorf(kopilka.ECONFLICT, "%s: already exists (%s)", what, name)
	}
	return fmt.Errorf("%s: constraint %s broken: %w", what, name, err)
}

// values returns "($1, $2, …), (…)" for rows of n columns starting at $start.
func values(rows, n, start int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range n {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(start + r*n + c))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// batch is a list of writes to different tables that belong together. Where
// the database allows it they are sent as one statement of data-modifying
// CTEs (one round trip instead of one per table); elsewhere one by one.
type batch []statement

type statement struct {
	table string // the table it writes
	sql   string // placeholders count from $1
	args  []any
}

func (b *batch) add(table, sql string, args ...any) { *b = append(*b, statement{table, sql, args}) }

// writes reports whether a statement of the batch writes the table.
func (b batch) writes(table string) bool {
	for _, s := range b {
		if s.table == table {
			return true
		}
	}
	return false
}

// shift adds offset to every placeholder $n of a statement. Our SQL holds no
// "$" in literals, so every "$" followed by digits is a placeholder.
func shift(sql string, offset int) string {
	if offset == 0 {
		return sql
	}
	key := shiftKey{sql, offset}
	if v, ok := shifted.Load(key); ok {
		return v.(string)
	}
	out := renumber(sql, offset)
	shifted.Store(key, out)
	return out
}

// shifted caches renumbered statements: a program has few distinct ones
// (one per table and row count), and renumbering long INSERTs on every
// purchase cost 5 % of the server's CPU.
var shifted sync.Map

type shiftKey struct {
	sql    string
	offset int
}

func renumber(sql string, offset int) string {
	var b strings.Builder
	b.Grow(len(sql) + len(sql)/8)
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		b.WriteByte(c)
		if c != '$' {
			continue
		}
		j := i + 1
		for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
			j++
		}
		if j > i+1 {
			n, _ := strconv.Atoi(sql[i+1 : j])
			b.WriteString(strconv.Itoa(n + offset))
			i = j - 1
		}
	}
	return b.String()
}

// exec writes the batch. Where the database takes data-modifying CTEs, the
// writes of a read-write transaction wait in pending and join the writes
// after them, so that a purchase's ledger entry and its record travel as one
// statement; an error then surfaces at the next statement or at commit.
func (t *Tx) exec(ctx context.Context, b batch) error {
	if t.d.WritableCTE && t.locking {
		// One statement must not write a table twice: the CTEs share one
		// snapshot, so a second update of a balance row would be lost.
		for _, s := range b {
			if t.pending.writes(s.table) {
				if err := t.flush(ctx); err != nil {
					return err
				}
			}
			t.pending = append(t.pending, s)
		}
		return nil
	}
	return t.run(ctx, b)
}

func (t *Tx) run(ctx context.Context, b batch) error {
	if !t.d.WritableCTE || len(b) < 2 {
		for _, s := range b {
			if _, err := t.q.Exec(ctx, s.sql, s.args...); err != nil {
				return err
			}
		}
		return nil
	}
	sql, args := b.statement()
	_, err := t.q.Exec(ctx, sql, args...)
	return err
}

// statement joins the batch into one statement of data-modifying CTEs.
func (b batch) statement() (string, []any) {
	if len(b) == 1 {
		return b[0].sql, b[0].args
	}
	var q strings.Builder
	var args []any
	for i, s := range b {
		sql := shift(s.sql, len(args))
		args = append(args, s.args...)
		switch {
		case i == len(b)-1:
			q.WriteString("\n" + sql)
		case i == 0:
			fmt.Fprintf(&q, "WITH w%d AS (%s)", i, sql)
		default:
			fmt.Fprintf(&q, ", w%d AS (%s)", i, sql)
		}
	}
	return q.String(), args
}
