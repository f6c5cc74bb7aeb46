package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/internal/fakedb"
	"github.com/kopilka/kopilka/jobs"
	"github.com/kopilka/kopilka/pricing"
)

// These tests run the jobs against a fake of jobs.Tx, with no database.

type state struct{ due []string }

type fakeTx struct {
	jobs.Tx // the rest of the port panics if called
	s       *state
}

func (t fakeTx) DueMembers(context.Context, time.Time, int) (activate, expire []string, err error) {
	return t.s.due, nil, nil
}
func (t fakeTx) TierReviews(context.Context, time.Time, int) ([]string, error) { return nil, nil }
func (t fakeTx) DeleteStaleCodes(context.Context, time.Time, int) (int, error) { return 0, nil }

type live struct{ e *pricing.Engine }

func (l live) Engine(context.Context) (*pricing.Engine, error) { return l.e, nil }

func newService(t *testing.T) (*jobs.Service, *fakedb.DB[state, jobs.Tx]) {
	t.Helper()
	e, err := pricing.Compile(kopilka.DefaultProgramme())
	if err != nil {
		t.Fatal(err)
	}
	db := &fakedb.DB[state, jobs.Tx]{Clone: func(s state) state { return s }, Tx: func(s *state) jobs.Tx { return fakeTx{s: s} }}
	return &jobs.Service{DB: db, Env: kopilka.NewEnv(), Live: live{e}}, db
}

func TestRunJobs_OnlyTheSystemOrAnAdminRunsThem(t *testing.T) {
	svc, db := newService(t)
	key := kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "key", ID: "k", Role: kopilka.RoleOperator})
	if _, err := svc.RunJobs(key); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("an operator's key ran the jobs: %v", err)
	}
	if db.Views+db.Updates != 0 {
		t.Fatal("a refused run read the database")
	}
	rep, err := svc.RunJobs(kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("jobs")))
	if err != nil || rep != (jobs.JobReport{}) {
		t.Fatalf("a run with nothing due: %+v %v", rep, err)
	}
}
