package importer

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kopilka/kopilka"
)

// RowError is a row of the file that was not imported: its line number
// (1 is the file's first line, the header included), the field at fault
// and why.
type RowError struct {
	Line   int64  `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason) }

// row is one receipt line as read: quantity signed (negative on a return),
// price and amount in minor units, never negative.
type row struct {
	line     int64 // the file's line
	item     int   // the line's number in its receipt
	receipt  string
	customer string
	store    string
	sku      string
	category string
	name     string
	qty      kopilka.Quantity
	price    int64
	amount   int64
	at       time.Time
}

// Limits of what a row may hold, so that no file makes the importer
// balloon: a field of at most maxField bytes, at most maxItems items in a
// basket, a line of at most maxLine bytes.
const (
	maxField = 256
	maxItems = 1000
	maxLine  = 1 << 20
)

// reader turns a file into rows by a mapping.
type reader struct {
	m    Mapping
	loc  *time.Location
	at   time.Time // rows without a time column
	cats map[string]string

	csv    *csv.Reader
	fields *bufio.Scanner
	line   int64

	receipt, customer, store, sku, category, name, qty, price, amount, tm col
}

// col picks a field of a record: the literal lit, the field at idx, or
// the fields of join joined by "-". A zero col (none) reads "".
type col struct {
	set  bool
	lit  string
	idx  int
	join []int
}

func (c col) get(rec []string) (string, bool) {
	switch {
	case !c.set:
		return "", true
	case c.join != nil:
		parts := make([]string, len(c.join))
		for i, j := range c.join {
			if j >= len(rec) {
				return "", false
			}
			parts[i] = strings.TrimSpace(rec[j])
		}
		return strings.Join(parts, "-"), true
	case c.idx < 0:
		return c.lit, true
	case c.idx >= len(rec):
		return "", false
	}
	return strings.TrimSpace(rec[c.idx]), true
}

// compile resolves a column spec against the header (nil: none).
func compile(field, spec string, header []string) (col, error) {
	if spec == "" {
		return col{}, nil
	}
	if lit, ok := strings.CutPrefix(spec, "="); ok {
		return col{set: true, lit: lit, idx: -1}, nil
	}
	one := func(name string) (int, error) {
		if n, ok := strings.CutPrefix(name, "#"); ok {
			i, err := strconv.Atoi(n)
			if err != nil || i < 1 {
				return 0, kopilka.FieldErr(kopilka.EINVALID, "columns."+field, fmt.Sprintf("%q is not a field number", name))
			}
			return i - 1, nil
		}
		for i, h := range header {
			if strings.TrimSpace(h) == name {
				return i, nil
			}
		}
		return 0, kopilka.FieldErr(kopilka.EINVALID, "columns."+field, fmt.Sprintf("the file has no column %q", name))
	}
	if strings.Contains(spec, "+") {
		var c col
		c.set = true
		for _, p := range strings.Split(spec, "+") {
			i, err := one(p)
			if err != nil {
				return col{}, err
			}
			c.join = append(c.join, i)
		}
		return c, nil
	}
	i, err := one(spec)
	return col{set: true, idx: i}, err
}

// open opens a file, gunzipping it when it starts with gzip's magic bytes.
func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return Decompress(f)
}

// Decompress returns r itself, or its content ungzipped when it starts with
// gzip's magic bytes; closing the result closes r.
func Decompress(r io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			r.Close()
			return nil, err
		}
		return readCloser{z, func() error { z.Close(); return r.Close() }}, nil
	}
	return readCloser{br, r.Close}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// loadLookup reads a Lookup's file into a map.
func loadLookup(l *Lookup, dir string) (map[string]string, error) {
	path := l.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	f, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord, r.ReuseRecord = -1, true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("categories %s: %w", l.File, err)
	}
	key, kerr := compile("categories.key", l.Key, head)
	val, verr := compile("categories.value", l.Value, head)
	if err := errors.Join(kerr, verr); err != nil {
		return nil, fmt.Errorf("categories %s: %w", l.File, err)
	}
	out := map[string]string{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("categories %s: %w", l.File, err)
		}
		k, _ := key.get(rec)
		v, _ := val.get(rec)
		if k != "" && v != "" && kopilka.CleanText(k) && kopilka.CleanText(v) {
			out[k] = cutField(v)
		}
	}
}

func newReader(r io.Reader, m Mapping, loc *time.Location, at time.Time, cats map[string]string) (*reader, error) {
	rd := &reader{m: m, loc: loc, at: at, cats: cats}
	var header []string
	switch m.Format {
	case "fields":
		rd.fields = bufio.NewScanner(r)
		rd.fields.Buffer(make([]byte, 64<<10), maxLine)
		if m.Header {
			if !rd.fields.Scan() {
				return nil, fmt.Errorf("the file is empty: %v", rd.fields.Err())
			}
			rd.line++
			header = strings.Fields(rd.fields.Text())
		}
	default:
		rd.csv = csv.NewReader(r)
		rd.csv.FieldsPerRecord, rd.csv.ReuseRecord = -1, true
		if m.Header {
			h, err := rd.csv.Read()
			if err != nil {
				return nil, fmt.Errorf("the file's header: %w", err)
			}
			header = append([]string(nil), h...)
			if len(header) > 0 {
				header[0] = strings.TrimPrefix(header[0], "\ufeff")
			}
			rd.line = 1
		}
	}
	if m.Format == "baskets" {
		var err error
		rd.store, err = compile("store", m.Columns.Store, nil)
		return rd, err
	}
	c := m.Columns
	var errs []error
	for _, f := range []struct {
		dst        *col
		name, spec string
	}{{&rd.receipt, "receipt", c.Receipt}, {&rd.customer, "customer", c.Customer}, {&rd.store, "store", c.Store},
		{&rd.sku, "sku", c.SKU}, {&rd.category, "category", c.Category}, {&rd.name, "name", c.Name}, {&rd.qty, "quantity", c.Quantity},
		{&rd.price, "price", c.Price}, {&rd.amount, "amount", c.Amount}, {&rd.tm, "time", c.Time}} {
		var err error
		*f.dst, err = compile(f.name, f.spec, header)
		errs = append(errs, err)
	}
	return rd, errors.Join(errs...)
}

// next reads the next record and returns its rows (a basket's items, or
// one line), or the record's error; io.EOF at the end. An error that is
// not a RowError ends the import.
func (rd *reader) next() ([]row, error) {
	var rec []string
	switch {
	case rd.fields != nil:
		if !rd.fields.Scan() {
			if err := rd.fields.Err(); err != nil {
				return nil, fmt.Errorf("line %d: %w", rd.line+1, err)
			}
			return nil, io.EOF
		}
		rd.line++
		rec = strings.Fields(rd.fields.Text())
		if len(rec) == 0 {
			return nil, nil // a blank line
		}
	default:
		var err error
		rec, err = rd.csv.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		line, _ := rd.csv.FieldPos(0)
		if line > 0 {
			rd.line = int64(line)
		} else {
			rd.line++
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			rd.line = int64(perr.StartLine)
			return nil, RowError{Line: rd.line, Field: "(row)", Reason: perr.Err.Error()}
		}
		if err != nil {
			return nil, err
		}
	}
	if rd.m.Format == "baskets" {
		return rd.basket(rec)
	}
	r, err := rd.lineRow(rec)
	if err != nil {
		return nil, err
	}
	return []row{r}, nil
}

func (rd *reader) basket(rec []string) ([]row, error) {
	if len(rec) > maxItems {
		return nil, RowError{Line: rd.line, Field: "items", Reason: fmt.Sprintf("more than %d items", maxItems)}
	}
	store, _ := rd.store.get(rec)
	id := "basket-" + strconv.FormatInt(rd.line, 10)
	var out []row
	for _, it := range rec {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if len(it) > maxField {
			return nil, RowError{Line: rd.line, Field: "items", Reason: fmt.Sprintf("an item is longer than %d bytes", maxField)}
		}
		if !kopilka.CleanText(it) {
			return nil, RowError{Line: rd.line, Field: "items", Reason: "an item is not valid UTF-8 text, or holds control characters"}
		}
		out = append(out, row{line: rd.line, item: len(out) + 1, receipt: id, store: store, sku: it, category: rd.cats[it],
			qty: kopilka.QuantityScale, at: rd.at})
	}
	if len(out) == 0 {
		return nil, RowError{Line: rd.line, Field: "items", Reason: "the basket is empty"}
	}
	return out, nil
}

func (rd *reader) lineRow(rec []string) (row, error) {
	r := row{line: rd.line, item: int(min(rd.line, 1<<31-1))}
	bad := func(field, reason string) (row, error) {
		return row{}, RowError{Line: rd.line, Field: field, Reason: reason}
	}
	str := func(c col, field string, need bool) (string, error) {
		v, ok := c.get(rec)
		switch {
		case !ok:
			return "", RowError{Line: rd.line, Field: field, Reason: "the row has too few fields"}
		case need && v == "":
			return "", RowError{Line: rd.line, Field: field, Reason: "empty"}
		case len(v) > maxField:
			return "", RowError{Line: rd.line, Field: field, Reason: fmt.Sprintf("longer than %d bytes", maxField)}
		case !kopilka.CleanText(v):
			return "", RowError{Line: rd.line, Field: field, Reason: "not valid UTF-8 text, or holds control characters"}
		}
		return v, nil
	}
	var err error
	if r.receipt, err = str(rd.receipt, "receipt", true); err != nil {
		return row{}, err
	}
	if r.customer, err = str(rd.customer, "customer", false); err != nil {
		return row{}, err
	}
	if r.store, err = str(rd.store, "store", true); err != nil {
		return row{}, err
	}
	if r.sku, err = str(rd.sku, "sku", true); err != nil {
		return row{}, err
	}
	if r.category, err = str(rd.category, "category", false); err != nil {
		return row{}, err
	}
	if r.category == "" {
		r.category = rd.cats[r.sku]
	}
	if v, ok := rd.name.get(rec); ok && kopilka.CleanText(v) {
		r.name = cutField(v) // a name that is not text is left out, the line kept
	}
	q, err := str(rd.qty, "quantity", true)
	if err != nil {
		return row{}, err
	}
	neg := false
	if rest, ok := strings.CutPrefix(q, "-"); ok {
		neg, q = true, rest
	}
	if r.qty, err = kopilka.ParseQuantity(q); err != nil {
		return bad("quantity", fmt.Sprintf("%q is not a quantity: %v", q, err))
	}
	if neg {
		r.qty = -r.qty // a return
	}
	if r.qty == 0 {
		return bad("quantity", "zero")
	}
	major := rd.m.Money == "major"
	if rd.price.set {
		p, err := str(rd.price, "price", true)
		if err != nil {
			return row{}, err
		}
		d, err := parseDecimal(p)
		if err != nil {
			return bad("price", fmt.Sprintf("%q is not a number", p))
		}
		if d.v < 0 {
			return bad("price", "negative")
		}
		if r.price, err = d.minor(major); err != nil {
			return bad("price", err.Error())
		}
		if !rd.amount.set {
			// amount = |quantity| × price, rounded to a minor unit once.
			if r.amount, err = d.times(r.qty, major); err != nil {
				return bad("price", err.Error())
			}
		}
	}
	if rd.amount.set {
		a, err := str(rd.amount, "amount", true)
		if err != nil {
			return row{}, err
		}
		d, err := parseDecimal(a)
		if err != nil {
			return bad("amount", fmt.Sprintf("%q is not a number", a))
		}
		if d.v < 0 {
			d.v = -d.v // a return's amount may carry the return's sign
		}
		if r.amount, err = d.minor(major); err != nil {
			return bad("amount", err.Error())
		}
		if r.amount > maxMoney {
			return bad("amount", "too large: at most 10^12 minor units a line")
		}
		if !rd.price.set {
			abs := int64(r.qty)
			if abs < 0 {
				abs = -abs
			}
			r.price = roundDiv(r.amount*kopilka.QuantityScale, abs) // ≤ 10^15 × 1000: no overflow
		}
	}
	if r.price > maxMoney || r.amount > maxMoney {
		return bad("amount", "too large: at most 10^12 minor units a line")
	}
	if !rd.tm.set {
		r.at = rd.at
		return r, nil
	}
	t, err := str(rd.tm, "time", true)
	if err != nil {
		return row{}, err
	}
	if r.at, err = time.ParseInLocation(rd.m.TimeLayout, t, rd.loc); err != nil {
		return bad("time", fmt.Sprintf("%q does not read as %s", t, rd.m.TimeLayout))
	}
	return r, nil
}

// cutField shortens s to at most maxField bytes, on a character boundary.
func cutField(s string) string {
	if len(s) <= maxField {
		return s
	}
	n := maxField
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maxMoney bounds a line's price and amount: 10^12 minor units (ten
// thousand million in major units), so that no sum of a receipt or of a
// year's lines overflows int64.
const maxMoney = 1_000_000_000_000

// decimal is v × 10^-scale.
type decimal struct {
	v     int64
	scale int
}

// parseDecimal reads "-12.345" (at most 15 digits, no exponent).
func parseDecimal(s string) (decimal, error) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	var d decimal
	digits, dot := 0, false
	if s == "" || s == "." {
		return d, errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			digits++
			if digits > 15 {
				return d, errors.New("too many digits")
			}
			d.v = d.v*10 + int64(c-'0')
			if dot {
				d.scale++
			}
		default:
			return d, errors.New("not a number")
		}
	}
	if neg {
		d.v = -d.v
	}
	return d, nil
}

// minor is the value in minor units: ×100 for major units, rounded half
// away from zero; an integer as it is for minor ones (a fraction of a minor
// unit is refused).
func (d decimal) minor(major bool) (int64, error) {
	if !major {
		if d.scale > 0 {
			return 0, errors.New("minor units are whole numbers")
		}
		return d.v, nil
	}
	v, s := d.v*100, d.scale // 15 digits × 100 cannot overflow
	return roundDiv(v, pow10(s)), nil
}

// times is |q| × d in minor units, rounded half away from zero.
func (d decimal) times(q kopilka.Quantity, major bool) (int64, error) {
	a, v := int64(q), d.v
	if a < 0 {
		a = -a
	}
	hi, lo := bits.Mul64(uint64(a), uint64(v))
	if hi != 0 || lo > 1<<62 {
		return 0, errors.New("the line's amount is too large")
	}
	n := int64(lo)
	div := int64(kopilka.QuantityScale) * pow10(d.scale)
	if major {
		if n > (1<<62)/100 {
			return 0, errors.New("the line's amount is too large")
		}
		n *= 100
	}
	return roundDiv(n, div), nil
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// roundDiv is n/d rounded half away from zero (d > 0).
func roundDiv(n, d int64) int64 {
	if n < 0 {
		return -((-n + d/2) / d)
	}
	return (n + d/2) / d
}
