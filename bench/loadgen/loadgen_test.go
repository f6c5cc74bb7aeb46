package loadgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/bench/loadgen"
	kopilkahttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/storage/sqlite"
)

// TestRun drives a real server on SQLite for a moment: every purchase is
// confirmed, about half spend points, and the ledger stays consistent.
func TestRun(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bench.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := app.New(db)
	const key = "bench-test-key-0123456789"
	if _, err := svc.Access.EnsureKey(kopilka.NewContextWithPrincipal(ctx, kopilka.System("test")), "bootstrap", key); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(kopilkahttp.NewServer(svc, slog.New(slog.DiscardHandler), "test"))
	defer srv.Close()

	cfg := loadgen.Config{BaseURL: srv.URL, Key: key, Members: 30, Tills: 4,
		Duration: 700 * time.Millisecond, Warmup: 100 * time.Millisecond, Seed: 7}
	for run := range 2 { // the second run finds the members of the first
		res, err := loadgen.Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res.Report(&out)
		t.Logf("run %d:\n%s", run, out.String())
		if res.Confirmed == 0 || len(res.Errors) != 0 || res.Rejected != 0 {
			t.Fatalf("run %d: confirmed %d, rejected %d, errors %v", run, res.Confirmed, res.Rejected, res.Errors)
		}
		if share := float64(res.ConfirmedSpend) / float64(res.Confirmed); share < 0.2 || share > 0.8 {
			t.Errorf("run %d: %.2f of purchases spent points, want about half", run, share)
		}
		if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max || res.PerSecond <= 0 {
			t.Errorf("run %d: figures out of order: %+v", run, res)
		}
		b, _ := json.Marshal(res)
		if !strings.Contains(string(b), `"purchases_per_sec":`) {
			t.Errorf("JSON lacks purchases_per_sec: %s", b)
		}
	}
	breaches, err := db.Verify(ctx)
	if err != nil || len(breaches) > 0 {
		t.Fatalf("verify: %v %v", breaches, err)
	}
}

func TestRunRefusesBadKey(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bench.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer(kopilkahttp.NewServer(app.New(db), slog.New(slog.DiscardHandler), "test"))
	defer srv.Close()
	_, err = loadgen.Run(ctx, loadgen.Config{BaseURL: srv.URL, Key: "wrong", Members: 2, Tills: 1,
		Duration: 100 * time.Millisecond, Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want a 401", err)
	}
}
