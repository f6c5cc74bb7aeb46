package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kopilka/kopilka/importer"
)

// TestImport_TheCommandSummarisesAndARerunChangesNothing imports a small
// file with a mapping file, refusing one row, then again.
func TestImport_TheCommandSummarisesAndARerunChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "k.db")
	csv := "receipt;card;sku;qty;sum;day\n" +
		"r1;c1;milk;2;1,50;2025-01-03\n" +
		"r1;c1;bread;1;0.90;2025-01-03\n" +
		"r2;c2;milk;1;0.75;2025-01-04\n"
	// A decimal comma splits its row into one field too many: "50" is
	// read as the day, and the row is refused; the rest goes on.
	file, mapping := shopFiles(t, dir, strings.ReplaceAll(csv, ";", ","))
	var out, errOut bytes.Buffer
	args := []string{"-database-url", url, "-create", "-mapping", mapping, "-partner-id", "shop", "-json", file}
	if err := importCmd(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	var s importer.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Rows != 3 || s.Lines != 2 || s.Refused != 1 || s.Members != 2 || len(s.Errors) != 1 || s.Errors[0].Line != 2 {
		t.Fatalf("summary %+v", s)
	}
	if !strings.Contains(errOut.String(), "partner shop made") {
		t.Errorf("stderr %q", errOut.String())
	}
	out.Reset()
	if err := importCmd(ctx, []string{"-database-url", url, "-mapping", mapping, "-partner-id", "shop", file}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rows read        3", "lines written    0 (already there: 2)", "refused rows     1", "line 2: time: \"50\" does not read as 2006-01-02"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("second summary lacks %q:\n%s", want, out.String())
		}
	}
	if err := importCmd(ctx, []string{"-database-url", url, "-mapping", "nonesuch", file}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "online-retail") {
		t.Errorf("an unknown mapping: %v", err)
	}
}

// TestAnalytics_TheReportAndTheRefresh prints the report of an imported
// file and refreshes the tags.
func TestAnalytics_TheReportAndTheRefresh(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "k.db")
	var b strings.Builder
	b.WriteString("receipt,card,sku,qty,sum,day\n")
	for i, d := range []string{"2025-01-03", "2025-01-20", "2025-02-11", "2025-03-05", "2025-05-01"} {
		for _, c := range []string{"c1", "c2", "c3"}[:1+i%3] {
			b.WriteString(c + d + "," + c + ",milk,1,1.50," + d + "\n")
		}
	}
	file, mapping := shopFiles(t, dir, b.String())
	var out, errOut bytes.Buffer
	if err := importCmd(ctx, []string{"-database-url", url, "-create", "-mapping", mapping, file}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	out.Reset()
	if err := analyticsCmd(ctx, []string{"report", "-database-url", url, "-from", "2025-01-01", "-to", "2025-05-31"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2025-01-01 to 2025-05-31: 9 purchases by 3 members", "2025-01      2  100   50    0  100",
		"Champions", "Churn risk: BG/NBD"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := analyticsCmd(ctx, []string{"refresh", "-database-url", url}, &out); err != nil || !strings.HasPrefix(out.String(), "scored ") {
		t.Errorf("refresh: %v %q", err, out.String())
	}
}

// shopFiles writes a file of sales and its mapping file into dir.
func shopFiles(t *testing.T, dir, sales string) (file, mapping string) {
	t.Helper()
	file = filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(file, []byte(sales), 0o600); err != nil {
		t.Fatal(err)
	}
	m := importer.Mapping{Name: "shop", Format: "csv", Header: true, Money: "major", TimeLayout: "2006-01-02",
		Columns: importer.Columns{Receipt: "receipt", Customer: "card", Store: "=shop-1", SKU: "sku", Quantity: "qty", Amount: "sum", Time: "day"}}
	raw, _ := json.Marshal(m)
	mapping = filepath.Join(dir, "shop.json")
	if err := os.WriteFile(mapping, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, mapping
}
