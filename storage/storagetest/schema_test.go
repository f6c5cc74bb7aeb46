package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestMigrations_DialectsReachTheSameSchema migrates a fresh SQLite and a
// fresh PostgreSQL schema and compares what each catalogue says: tables,
// views, triggers, columns, keys, checks, foreign keys and indexes. A
// dialect's own migration file may spell a statement differently; it must
// not leave that dialect with another schema.
//
// Both catalogues are read into one-line facts, compared as sets:
//
//	table T
//	column T.C TYPE [not null] [default EXPR]
//	primary key T NAME (C, …)
//	unique T (C, …)                                         UNIQUE constraints
//	check T NAME (C, …) EXPR                                the columns it reads
//	foreign key T (C, …) references R (C, …) on update A on delete A
//	index T NAME (C, …) [unique] [where EXPR]               CREATE INDEX only
//	view V, trigger T NAME
//
// What each database says differently about one schema is normalised:
//
//   - Types, by class (a size in parentheses is dropped first):
//     integer, int, int2, int4, int8, smallint, bigint, tinyint → integer
//     (SQLite stores every integer in up to 8 bytes);
//     text, varchar, character varying, char, character, clob → text;
//     real, float, float4, float8, double, double precision → real;
//     numeric, decimal → numeric; boolean, bool → boolean; blob, bytea → blob.
//     Any other type is compared as written, in lower case.
//   - A primary-key column counts as NOT NULL. PostgreSQL makes it so;
//     SQLite, for old compatibility, lets a non-INTEGER key hold NULL unless
//     the column says NOT NULL, and Kopilka never writes a NULL key.
//   - Names matter (storage maps errors by constraint name), so keys and
//     checks are compared by name. A key or check SQLite leaves unnamed gets
//     the name PostgreSQL would give it: T_pkey, and for a check T_C_check
//     when it reads one column C, else T_check (then T_check1, …). SQLite
//     reports an unnamed check by its expression, so a SQLite file that
//     drops a mapped check's name passes here; the suite's error tests catch
//     that. Unique constraints and foreign keys are compared by columns.
//   - Expressions (defaults, checks, partial-index predicates): casts such
//     as ::text are dropped, and so are parentheses; keywords and names go
//     to lower case, tokens are separated by one space, and a quoted number
//     loses its quotes. PostgreSQL rewrites some expressions more deeply
//     (IN becomes = ANY (ARRAY[…]), BETWEEN two comparisons); a migration
//     that uses them needs a rule here.
//   - SQLite's own tables (sqlite_*) and the indexes behind primary keys and
//     UNIQUE constraints are not listed; those are the key and unique facts.
//
// Not compared: the order of columns, collations, index sort order, and
// what a trigger or view does (only that it exists).
func TestMigrations_DialectsReachTheSameSchema(t *testing.T) {
	ctx := t.Context()
	lite, err := describeSQLite(ctx, Open(t, "sqlite").SQL)
	if err != nil {
		t.Fatalf("read the SQLite schema: %v", err)
	}
	if !slices.Contains(lite, "table members") || !slices.Contains(lite, "primary key members members_pkey (id)") {
		t.Fatalf("the SQLite schema reads wrong:\n%s", strings.Join(lite, "\n"))
	}
	if os.Getenv(EnvURL) == "" {
		t.Skip(EnvURL + " is not set: read the SQLite schema only")
	}
	pg, err := describePostgres(ctx, Open(t, "postgres").SQL)
	if err != nil {
		t.Fatalf("read the PostgreSQL schema: %v", err)
	}
	if d := diffFacts(lite, pg); d != "" {
		t.Errorf("the dialects reach different schemas (- only in sqlite, + only in postgres):\n%s", d)
	}
}

// diffFacts lists the facts only one side has, in order, so that two
// versions of one column stand next to each other.
func diffFacts(a, b []string) string {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, f := range a {
		inA[f] = true
	}
	for _, f := range b {
		inB[f] = true
	}
	type line struct{ fact, sign string }
	var lines []line
	for _, f := range a {
		if !inB[f] {
			lines = append(lines, line{f, "-"})
		}
	}
	for _, f := range b {
		if !inA[f] {
			lines = append(lines, line{f, "+"})
		}
	}
	slices.SortStableFunc(lines, func(x, y line) int { return strings.Compare(x.fact, y.fact) })
	var out strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&out, "%s %s\n", l.sign, l.fact)
	}
	return out.String()
}

// facts is the schema as a sorted set of lines.
type facts map[string]bool

func (f facts) add(format string, args ...any) { f[fmt.Sprintf(format, args...)] = true }

func (f facts) sorted() []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func column(table, name, typ string, notNull bool, def sql.NullString) string {
	s := "column " + table + "." + name + " " + normType(typ)
	if notNull {
		s += " not null"
	}
	if def.Valid {
		s += " default " + normExpr(def.String)
	}
	return s
}

func list(cols []string) string { return "(" + strings.Join(cols, ", ") + ")" }

// typeClasses is the normalisation table of column types, by class.
var typeClasses = map[string][]string{
	"integer": {"integer", "int", "int2", "int4", "int8", "smallint", "bigint", "tinyint"},
	"text":    {"text", "varchar", "character varying", "char", "character", "clob"},
	"real":    {"real", "float", "float4", "float8", "double", "double precision"},
	"numeric": {"numeric", "decimal"},
	"boolean": {"boolean", "bool"},
	"blob":    {"blob", "bytea"},
}

func normType(t string) string {
	t = strings.ToLower(strings.Join(strings.Fields(t), " "))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	for class, names := range typeClasses {
		if slices.Contains(names, t) {
			return class
		}
	}
	return t
}

var (
	casts        = regexp.MustCompile(`(?i)::\s*[a-z_][a-z0-9_]*( varying| precision| with(out)? time zone)?(\[\])?`)
	quotedNumber = regexp.MustCompile(`^'[-+]?[0-9]+(\.[0-9]+)?'$`)
)

// normExpr writes an expression the same way whichever database printed it.
func normExpr(e string) string {
	var out []string
	for _, tk := range tokenize(casts.ReplaceAllString(e, "")) {
		switch {
		case tk.text == "(" || tk.text == ")":
		case tk.kind == word:
			out = append(out, strings.ToLower(tk.text))
		default:
			out = append(out, tk.text)
		}
	}
	s := strings.Join(out, " ")
	if quotedNumber.MatchString(s) {
		s = strings.Trim(s, "'")
	}
	return s
}

// describePostgres reads the schema of the connection's current_schema().
func describePostgres(ctx context.Context, db *sql.DB) ([]string, error) {
	f := facts{}
	err := eachRow(ctx, db, `SELECT table_name, table_type FROM information_schema.tables
		WHERE table_schema = current_schema()`, func(scan func(...any) error) error {
		var name, typ string
		if err := scan(&name, &typ); err != nil {
			return err
		}
		if typ == "VIEW" {
			f.add("view %s", name)
		} else {
			f.add("table %s", name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, db, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`, func(scan func(...any) error) error {
		var table, name, typ, nullable string
		var def sql.NullString
		if err := scan(&table, &name, &typ, &nullable, &def); err != nil {
			return err
		}
		f[column(table, name, typ, nullable == "NO", def)] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Columns of a key, in the key's order.
	const keyCols = `coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.i)
		FROM unnest(%s) WITH ORDINALITY AS k(n, i) JOIN pg_attribute a ON a.attrelid = %s AND a.attnum = k.n), '')`
	err = eachRow(ctx, db, `SELECT t.relname, c.conname, c.contype::text,
			`+fmt.Sprintf(keyCols, "c.conkey", "c.conrelid")+`, coalesce(r.relname, ''),
			`+fmt.Sprintf(keyCols, "c.confkey", "c.confrelid")+`,
			c.confupdtype::text, c.confdeltype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_namespace s ON s.oid = t.relnamespace
		LEFT JOIN pg_class r ON r.oid = c.confrelid
		WHERE s.nspname = current_schema() AND c.contype IN ('p', 'u', 'c', 'f')`, func(scan func(...any) error) error {
		var table, name, typ, cols, ref, refCols, onUpdate, onDelete, def string
		if err := scan(&table, &name, &typ, &cols, &ref, &refCols, &onUpdate, &onDelete, &def); err != nil {
			return err
		}
		columns := strings.Split(cols, ",")
		switch typ {
		case "p":
			f.add("primary key %s %s %s", table, name, list(columns))
		case "u":
			f.add("unique %s %s", table, list(columns))
		case "c":
			slices.Sort(columns)
			f.add("check %s %s %s %s", table, name, list(columns), normExpr(strings.TrimPrefix(def, "CHECK ")))
		case "f":
			f.add("foreign key %s %s references %s %s on update %s on delete %s", table, list(columns),
				ref, list(strings.Split(refCols, ",")), pgAction[onUpdate], pgAction[onDelete])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, db, `SELECT t.relname, i.relname, x.indisunique,
			(SELECT string_agg(coalesce(a.attname, '<expr>'), ',' ORDER BY k.i)
				FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, i)
				LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n AND k.n > 0
				WHERE k.i <= x.indnkeyatts),
			coalesce(pg_get_expr(x.indpred, x.indrelid), '')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace s ON s.oid = t.relnamespace
		WHERE s.nspname = current_schema()
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c
			WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))`,
		func(scan func(...any) error) error {
			var table, name, cols, where string
			var unique bool
			if err := scan(&table, &name, &unique, &cols, &where); err != nil {
				return err
			}
			f[index(table, name, strings.Split(cols, ","), unique, where)] = true
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, db, `SELECT c.relname, g.tgname FROM pg_trigger g
		JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname = current_schema() AND NOT g.tgisinternal`, func(scan func(...any) error) error {
		var table, name string
		if err := scan(&table, &name); err != nil {
			return err
		}
		f.add("trigger %s %s", table, name)
		return nil
	})
	return f.sorted(), err
}

var pgAction = map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

func index(table, name string, cols []string, unique bool, where string) string {
	s := "index " + table + " " + name + " " + list(cols)
	if unique {
		s += " unique"
	}
	if where != "" {
		s += " where " + normExpr(where)
	}
	return s
}

// describeSQLite reads the schema of a SQLite database.
func describeSQLite(ctx context.Context, db *sql.DB) ([]string, error) {
	f := facts{}
	type object struct{ typ, name, table, sql string }
	var objects []object
	err := eachRow(ctx, db, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`, func(scan func(...any) error) error {
		var o object
		if err := scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return err
		}
		objects = append(objects, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	indexSQL := map[string]string{}
	for _, o := range objects {
		switch o.typ {
		case "view":
			f.add("view %s", o.name)
		case "trigger":
			f.add("trigger %s %s", o.table, o.name)
		case "index":
			indexSQL[o.name] = o.sql
		}
	}
	for _, o := range objects {
		if o.typ != "table" {
			continue
		}
		if err := describeSQLiteTable(ctx, db, f, o.name, o.sql, indexSQL); err != nil {
			return nil, fmt.Errorf("table %s: %w", o.name, err)
		}
	}
	return f.sorted(), nil
}

func describeSQLiteTable(ctx context.Context, db *sql.DB, f facts, table, createSQL string, indexSQL map[string]string) error {
	f.add("table %s", table)
	var columns []string
	pk := map[int]string{}
	err := eachRow(ctx, db, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, func(scan func(...any) error) error {
		var name, typ string
		var notNull bool
		var def sql.NullString
		var pkPos int
		if err := scan(&name, &typ, &notNull, &def, &pkPos); err != nil {
			return err
		}
		columns = append(columns, name)
		if pkPos > 0 {
			pk[pkPos] = name
		}
		f[column(table, name, typ, notNull || pkPos > 0, def)] = true
		return nil
	}, table)
	if err != nil {
		return err
	}
	var pkCols []string
	for i := 1; i <= len(pk); i++ {
		pkCols = append(pkCols, pk[i])
	}

	c := parseCreateTable(createSQL, columns)
	if len(pkCols) > 0 {
		name := c.pkName
		if name == "" {
			name = table + "_pkey"
		}
		f.add("primary key %s %s %s", table, name, list(pkCols))
	}
	taken := map[string]bool{}
	for _, ch := range c.checks {
		taken[ch.name] = true
	}
	for _, ch := range c.checks {
		name := ch.name
		if name == "" {
			// PostgreSQL's ChooseConstraintName.
			base := table
			if len(ch.columns) == 1 {
				base += "_" + ch.columns[0]
			}
			name = base + "_check"
			for n := 1; taken[name]; n++ {
				name = base + "_check" + strconv.Itoa(n)
			}
			taken[name] = true
		}
		f.add("check %s %s %s %s", table, name, list(ch.columns), ch.expr)
	}

	type idx struct {
		name, origin string
		unique       bool
	}
	var idxs []idx
	err = eachRow(ctx, db, `SELECT name, "unique", origin FROM pragma_index_list(?)`, func(scan func(...any) error) error {
		var i idx
		if err := scan(&i.name, &i.unique, &i.origin); err != nil {
			return err
		}
		idxs = append(idxs, i)
		return nil
	}, table)
	if err != nil {
		return err
	}
	for _, i := range idxs {
		var cols []string
		err := eachRow(ctx, db, `SELECT coalesce(name, '<expr>') FROM pragma_index_info(?) ORDER BY seqno`, func(scan func(...any) error) error {
			var c string
			if err := scan(&c); err != nil {
				return err
			}
			cols = append(cols, c)
			return nil
		}, i.name)
		if err != nil {
			return err
		}
		switch i.origin {
		case "u":
			f.add("unique %s %s", table, list(cols))
		case "c":
			f[index(table, i.name, cols, i.unique, indexWhere(indexSQL[i.name]))] = true
		}
	}

	type fk struct {
		ref, onUpdate, onDelete string
		from, to                []string
	}
	fks := map[int]*fk{}
	err = eachRow(ctx, db, `SELECT id, "table", "from", "to", on_update, on_delete
		FROM pragma_foreign_key_list(?) ORDER BY id, seq`, func(scan func(...any) error) error {
		var id int
		var ref, from, onUpdate, onDelete string
		var to sql.NullString
		if err := scan(&id, &ref, &from, &to, &onUpdate, &onDelete); err != nil {
			return err
		}
		k := fks[id]
		if k == nil {
			k = &fk{ref: ref, onUpdate: strings.ToLower(onUpdate), onDelete: strings.ToLower(onDelete)}
			fks[id] = k
		}
		k.from = append(k.from, from)
		k.to = append(k.to, to.String) // empty: the referenced table's key, filled in below
		return nil
	}, table)
	if err != nil {
		return err
	}
	for _, k := range fks {
		if slices.Contains(k.to, "") {
			refKey, err := sqlitePrimaryKey(ctx, db, k.ref)
			if err != nil {
				return err
			}
			k.to = refKey
		}
		f.add("foreign key %s %s references %s %s on update %s on delete %s", table, list(k.from),
			k.ref, list(k.to), k.onUpdate, k.onDelete)
	}
	return nil
}

func sqlitePrimaryKey(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	var cols []string
	err := eachRow(ctx, db, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, func(scan func(...any) error) error {
		var c string
		err := scan(&c)
		cols = append(cols, c)
		return err
	}, table)
	return cols, err
}

// sqliteTable is what the catalogue does not say about a table and its
// CREATE TABLE statement does: the names of its constraints, and its checks.
type sqliteTable struct {
	pkName string
	checks []sqliteCheck
}

type sqliteCheck struct {
	name    string   // "" when unnamed
	columns []string // the table's columns it reads, sorted
	expr    string   // normalised
}

// parseCreateTable reads constraints from a CREATE TABLE statement as SQLite
// keeps it (ALTER TABLE ADD COLUMN appends the column to that text).
func parseCreateTable(createSQL string, columns []string) sqliteTable {
	var t sqliteTable
	toks := tokenize(createSQL)
	start := slices.IndexFunc(toks, func(tk token) bool { return tk.text == "(" })
	if start < 0 {
		return t
	}
	isColumn := map[string]string{}
	for _, c := range columns {
		isColumn[strings.ToLower(c)] = c
	}
	// The definitions: split at top-level commas inside the outer parentheses.
	var defs [][]token
	depth, from := 0, start+1
	for i := start; i < len(toks); i++ {
		switch toks[i].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				defs = append(defs, toks[from:i])
				i = len(toks)
			}
		case ",":
			if depth == 1 {
				defs = append(defs, toks[from:i])
				from = i + 1
			}
		}
	}
	for _, def := range defs {
		for i := 0; i < len(def); i++ {
			kw := strings.ToUpper(def[i].text)
			if def[i].kind != word || (kw != "PRIMARY" && kw != "CHECK") {
				continue
			}
			name := ""
			if i >= 2 && strings.EqualFold(def[i-2].text, "CONSTRAINT") {
				name = def[i-1].text
			}
			if kw == "PRIMARY" {
				t.pkName = name
				continue
			}
			// CHECK ( expr )
			end, depth := i+1, 0
			for ; end < len(def); end++ {
				if def[end].text == "(" {
					depth++
				} else if def[end].text == ")" {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			expr := def[min(i+1, len(def)):min(end+1, len(def))]
			var cols, text []string
			for _, tk := range expr {
				text = append(text, tk.text)
				if c, ok := isColumn[strings.ToLower(tk.text)]; ok && (tk.kind == word || tk.kind == ident) && !slices.Contains(cols, c) {
					cols = append(cols, c)
				}
			}
			slices.Sort(cols)
			t.checks = append(t.checks, sqliteCheck{name: name, columns: cols, expr: normExpr(strings.Join(text, " "))})
			i = end
		}
	}
	return t
}

// indexWhere returns the predicate of a CREATE INDEX … WHERE statement.
func indexWhere(createSQL string) string {
	toks := tokenize(createSQL)
	depth := 0
	for i, tk := range toks {
		switch {
		case tk.text == "(":
			depth++
		case tk.text == ")":
			depth--
		case depth == 0 && tk.kind == word && strings.EqualFold(tk.text, "WHERE"):
			var text []string
			for _, tk := range toks[i+1:] {
				text = append(text, tk.text)
			}
			return strings.Join(text, " ")
		}
	}
	return ""
}

type tokenKind int

const (
	word   tokenKind = iota // keyword or bare name
	ident                   // "quoted name", `name` or [name], unquoted
	str                     // 'string literal', quotes kept
	number                  // 12, 1.5
	punct                   // ( ) , ; or a run of operator characters
)

type token struct {
	kind tokenKind
	text string
}

// tokenize splits SQL into tokens, dropping comments and white space.
func tokenize(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
		case strings.HasPrefix(s[i:], "/*"):
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(s)
			}
		case c == '\'':
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(s))
			out = append(out, token{str, s[i:j]})
			i = j
		case c == '"' || c == '`' || c == '[':
			end := map[byte]byte{'"': '"', '`': '`', '[': ']'}[c]
			j := strings.IndexByte(s[i+1:], end)
			if j < 0 {
				j = len(s) - i - 1
			}
			out = append(out, token{ident, s[i+1 : i+1+j]})
			i += j + 2
		case isWordByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{word, s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, token{number, s[i:j]})
			i = j
		case strings.IndexByte("(),;", c) >= 0:
			out = append(out, token{punct, string(c)})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte("<>=!|+-*/%&~:.", s[j]) >= 0 {
				j++
			}
			j = max(j, i+1)
			out = append(out, token{punct, s[i:j]})
			i = j
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// eachRow runs a query and hands each row's Scan to fn.
func eachRow(ctx context.Context, db *sql.DB, query string, fn func(scan func(...any) error) error, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, query)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
