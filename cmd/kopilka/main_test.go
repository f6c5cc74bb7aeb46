package main

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	_ "modernc.org/sqlite"
)

// TestVerify_ExitsNonZeroOnABreach runs the verify command on a healthy
// database and again after a balance was changed behind the ledger's back.
func TestVerify_ExitsNonZeroOnABreach(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	url := "sqlite://" + path
	if err := run(ctx, []string{"migrate", "-database-url", url}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"verify", "-database-url", url}); err != nil {
		t.Fatalf("verify on an empty ledger: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO members (id, name, consents, status, created_at) VALUES ('m1', '', '{}', 'active', 0)`,
		`INSERT INTO balances (member_id, available, pending) VALUES ('m1', 10, 0)`, // no postings, no lots behind it
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	err = run(ctx, []string{"verify", "-database-url", url})
	if err == nil || !strings.Contains(err.Error(), "breach") {
		t.Fatalf("verify on a tampered ledger: %v, want a breach", err)
	}
}

func TestRun_UnknownCommandAndVersion(t *testing.T) {
	if err := run(context.Background(), []string{"frobnicate"}); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := run(context.Background(), []string{"version"}); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"jobs"}); err == nil {
		t.Fatal("jobs without run-once succeeded")
	}
}

// TestBootstrapKey_ARevokedKeyStaysRevokedAndTheServerStarts checks that a
// KOPILKA_BOOTSTRAP_KEY left in the environment after the key was revoked
// neither brings the key back nor stops the server from starting.
func TestBootstrapKey_ARevokedKeyStaysRevokedAndTheServerStarts(t *testing.T) {
	ctx := context.Background()
	db, err := openStore(ctx, config{databaseURL: "sqlite://" + filepath.Join(t.TempDir(), "k.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := newService(db, config{region: "RU"})
	t.Setenv("KOPILKA_BOOTSTRAP_KEY", "boot-secret")
	logger := slog.New(slog.DiscardHandler)
	if err := bootstrapKey(ctx, svc, logger); err != nil {
		t.Fatal(err)
	}
	k, err := svc.Access.Authenticate(ctx, "boot-secret")
	if err != nil || k.Role != "admin" {
		t.Fatalf("bootstrap key: %+v, %v", k, err)
	}
	if err := svc.Access.RevokeKey(kopilka.NewContextWithPrincipal(ctx, kopilka.System("test")), k.ID); err != nil {
		t.Fatal(err)
	}
	if err := bootstrapKey(ctx, svc, logger); err != nil {
		t.Fatalf("start with a revoked bootstrap key: %v", err)
	}
	if _, err := svc.Access.Authenticate(ctx, "boot-secret"); err == nil {
		t.Fatal("the revoked bootstrap key works again")
	}
}
