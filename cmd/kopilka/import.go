package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/importer"
)

// importCmd runs an import of receipt lines from a file: the command line
// of importer.Service.Import, with a progress bar when standard error is a
// terminal and a summary at the end.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "members" {
		return importMembersCmd(ctx, args[1:], stdout, stderr)
	}
	var c config
	var o importer.Options
	var mapping, at, partnerName string
	var asJSON bool
	fs := newFlags("import", &c)
	fs.BoolVar(&c.create, "create", false, "make the SQLite file if it does not exist")
	fs.StringVar(&mapping, "mapping", "", "a ready mapping ("+strings.Join(importer.ReadyNames(), ", ")+") or a mapping file (JSON; see docs/import.md)")
	fs.StringVar(&o.PartnerID, "partner-id", "main", "the partner whose stores and receipts these are (made if it does not exist)")
	fs.StringVar(&partnerName, "partner-name", "", "the name of a partner the import makes (default: its id)")
	fs.StringVar(&o.Source, "source", "", "where the customer ids come from (default: the mapping's name); the same id from two sources is two members")
	fs.StringVar(&at, "at", "", "the date (YYYY-MM-DD) of receipts in a file without times (default: now)")
	fs.IntVar(&o.Batch, "batch", 2000, "receipts written per transaction")
	fs.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	fs.BoolVar(&o.Points, "points", false, "post members' receipts with the points the programme gives, dated at their time (expiring from then); returns take them back")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kopilka import -mapping online-retail [-partner-id main] [flags] FILE\n\n"+
			"FILE is a CSV (gzipped or not). Each row that cannot be imported is reported with its line\n"+
			"number and reason, and the rest goes on; running the same import again changes nothing.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || mapping == "" {
		fs.Usage()
		return errors.New("import: give -mapping and one file")
	}
	file := fs.Arg(0)
	m, err := importer.LoadMapping(mapping)
	if err != nil {
		return err
	}
	o.Mapping, o.Dir = m, filepath.Dir(file)
	if at != "" {
		if o.At, err = time.Parse("2006-01-02", at); err != nil {
			return fmt.Errorf("import: -at %q is not YYYY-MM-DD", at)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	counted := &countingReader{r: f}
	in, err := importer.Decompress(io.NopCloser(counted))
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	fmt.Fprintln(stderr, "kopilka import: using", describe(c.databaseURL))
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newService(db, c)
	ctx = kopilka.NewContextWithPrincipal(ctx, kopilka.System("command line"))
	if _, err := svc.Coalition.Partner(ctx, o.PartnerID); kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
		if partnerName == "" {
			partnerName = o.PartnerID
		}
		if _, err := svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: o.PartnerID, Name: partnerName}); err != nil {
			return fmt.Errorf("import: partner %s: %w", o.PartnerID, err)
		}
		fmt.Fprintf(stderr, "kopilka import: partner %s made\n", o.PartnerID)
	} else if err != nil {
		return err
	}
	if terminal(stderr) {
		bar := &progressBar{w: stderr, total: st.Size(), read: counted}
		o.Progress = bar.show
		defer bar.done()
	}
	sum, err := svc.Import.Import(ctx, in, o)
	if err != nil {
		if sum.Rows > 0 {
			fmt.Fprintf(stderr, "kopilka import: stopped after %d rows (a second run goes on where this one stopped)\n", sum.Rows)
		}
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	printSummary(stdout, sum)
	return nil
}

func printSummary(w io.Writer, s importer.Summary) {
	fmt.Fprintf(w, "rows read        %d\n", s.Rows)
	fmt.Fprintf(w, "lines written    %d (already there: %d)\n", s.Lines, s.Already)
	fmt.Fprintf(w, "receipts         %d sales, %d returns (%d return lines found on earlier purchases)\n", s.Receipts, s.Returns, s.ReturnedFound)
	fmt.Fprintf(w, "members, stores  %d new members, %d new stores\n", s.Members, s.Stores)
	fmt.Fprintf(w, "turnover         %s (minor units %d)\n", money(s.Turnover), s.Turnover)
	if s.Earned != 0 {
		fmt.Fprintf(w, "points earned    %d\n", s.Earned)
	}
	if !s.From.IsZero() {
		fmt.Fprintf(w, "dates            %s to %s\n", s.From.Format("2006-01-02"), s.To.Format("2006-01-02"))
	}
	fmt.Fprintf(w, "refused rows     %d\n", s.Refused)
	for _, e := range s.Errors[:min(len(s.Errors), 20)] {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if int64(len(s.Errors)) < s.Refused || len(s.Errors) > 20 {
		fmt.Fprintf(w, "  … -json lists the first %d\n", len(s.Errors))
	}
	fmt.Fprintf(w, "took             %.1f s (%.0f rows a second)\n", s.Elapsed, float64(s.Rows)/max(s.Elapsed, 1e-9))
}

// money writes minor units as major ones with two decimals.
func money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// terminal reports whether w is a character device (a terminal).
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws the share of the file read, redrawn in place.
type progressBar struct {
	w     io.Writer
	total int64
	read  *countingReader
	start time.Time
}

func (b *progressBar) show(s importer.Summary) {
	if b.start.IsZero() {
		b.start = time.Now()
	}
	frac := 1.0
	if b.total > 0 {
		frac = min(float64(b.read.n.Load())/float64(b.total), 1)
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %d rows  %d receipts  %d refused ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, s.Rows, s.Receipts+s.Returns, s.Refused)
}

func (b *progressBar) done() { fmt.Fprintln(b.w) }

var _ = flag.ContinueOnError

// importMembersCmd imports members moving from another platform: CSV with
// a header, or JSON lines (docs/import.md).
func importMembersCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	var source, format string
	var asJSON bool
	fs := newFlags("import members", &c)
	fs.BoolVar(&c.create, "create", false, "make the SQLite file if it does not exist")
	fs.StringVar(&source, "source", "", "the platform the members come from (required): their ids there are kept per source")
	fs.StringVar(&format, "format", "", "csv or jsonl (default: by the file's extension)")
	fs.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kopilka import members -source oldclub [-format csv|jsonl] FILE\n\n"+
			"Columns (CSV header or JSON fields): external_id (required), phone, email, name, birth_date, sms, email_consent,\n"+
			"card, balance (points), expires_at (YYYY-MM-DD), member_since (YYYY-MM-DD). Running it again changes nothing.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || source == "" {
		fs.Usage()
		return errors.New("import members: give -source and one file")
	}
	file := fs.Arg(0)
	if format == "" {
		format = "csv"
		if strings.HasSuffix(strings.TrimSuffix(file, ".gz"), ".jsonl") || strings.HasSuffix(strings.TrimSuffix(file, ".gz"), ".ndjson") {
			format = "jsonl"
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	in, err := importer.Decompress(f)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "kopilka import members: using", describe(c.databaseURL))
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newService(db, c)
	ctx = kopilka.NewContextWithPrincipal(ctx, kopilka.System("command line"))
	var progress func(importer.MemberSummary)
	if terminal(stderr) {
		progress = func(s importer.MemberSummary) {
			fmt.Fprintf(stderr, "\r%d rows: %d members made, %d already there, %d refused ", s.Rows, s.Created, s.Already, s.Refused)
			if s.Done {
				fmt.Fprintln(stderr)
			}
		}
	}
	sum, err := svc.Import.ImportMembers(ctx, in, format, source, progress)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "rows %d: %d members made (%d cards, %d points opened), %d already there, %d refused\n",
		sum.Rows, sum.Created, sum.Cards, sum.Points, sum.Already, sum.Refused)
	for _, e := range sum.Errors[:min(len(sum.Errors), 20)] {
		fmt.Fprintf(stdout, "  %s\n", e)
	}
	return nil
}
