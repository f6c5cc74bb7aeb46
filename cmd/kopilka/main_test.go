package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/storage/sqlite"
	_ "modernc.org/sqlite"
)

// TestVerify_ExitsNonZeroOnABreach runs the verify command on a healthy
// database and again after a balance was changed behind the ledger's back.
func TestVerify_ExitsNonZeroOnABreach(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	url := "sqlite://" + path
	if err := run(ctx, []string{"migrate", "-database-url", url, "-create"}); err != nil {
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
	db, err := openStore(ctx, config{databaseURL: "sqlite://" + filepath.Join(t.TempDir(), "k.db"), create: true})
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

// The tools pointed at a SQLite file that does not exist refuse rather than
// make an empty database and report success (issue 12, item 13); -create
// makes it.
func TestTools_AWrongPathIsRefusedNotCreated(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "typo.db")
	for _, args := range [][]string{{"verify"}, {"migrate"}, {"jobs", "run-once"}} {
		err := run(ctx, append(args, "-database-url", "sqlite://"+path))
		if err == nil || !strings.Contains(err.Error(), "no SQLite database at "+path) {
			t.Fatalf("%v on a missing file: %v", args, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v made the file", args)
		}
	}
	if err := run(ctx, []string{"migrate", "-database-url", "sqlite://" + path, "-create"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"verify", "-database-url", "sqlite://" + path}); err != nil {
		t.Fatal(err)
	}
}

// Asking a command for help is no failure (issue 12, item 14).
func TestHelp_IsNoError(t *testing.T) {
	for _, args := range [][]string{{"serve", "--help"}, {"verify", "-h"}, {"jobs", "run-once", "-h"}} {
		if err := run(context.Background(), args); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%v: %v, want flag.ErrHelp (exit status 0)", args, err)
		}
	}
}

// serve binds its port before anything else (issue 12, item 12): on a port
// that is taken it stops with a clear error, before it makes a database or
// prints a first admin key.
func TestServe_AStartThatCannotListenStopsFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := filepath.Join(t.TempDir(), "k.db")
	err = run(context.Background(), []string{"serve", "-addr", ln.Addr().String(), "-database-url", "sqlite://" + path})
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("serve on a taken port: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("serve made a database (and could have printed a key) before it could listen")
	}
}

// The first administrator is added from the command line, the password
// from standard input, and can then sign in; a short password is refused
// and adds nobody.
func TestOperatorCreate_TheFirstAdministrator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := context.Background()
	if err := operatorCreate(ctx, []string{"-database-url", "sqlite://" + path, "-create", "-email", "anna@example.com", "-name", "Anna"},
		strings.NewReader("short\n")); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("a short password: %v", err)
	}
	if err := operatorCreate(ctx, []string{"-database-url", "sqlite://" + path, "-email", "anna@example.com", "-name", "Anna"},
		strings.NewReader("correct horse battery\n")); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := app.New(db)
	sess, o, err := svc.Access.Login(ctx, "anna@example.com", "correct horse battery")
	if err != nil || o.Role != kopilka.RoleAdmin || sess.Token == "" {
		t.Fatalf("sign-in of the new administrator: %+v %v", o, err)
	}
	if err := operatorCreate(ctx, []string{"-database-url", "sqlite://" + path}, strings.NewReader("x\n")); err == nil {
		t.Fatal("no -email was accepted")
	}
	// -name may be left out, as its usage says.
	if err := operatorCreate(ctx, []string{"-database-url", "sqlite://" + path, "-email", "b@example.com", "-role", "support"},
		strings.NewReader("correct horse battery\n")); err != nil {
		t.Fatalf("an operator without -name: %v", err)
	}
}
