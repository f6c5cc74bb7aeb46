// Package app wires Kopilka's use cases together over one database: each
// domain package gets its narrow view of the storage (storage.For), the
// shared clock and randomness, and the other packages' services it
// declares ports for. The command and the tests build an App; the HTTP
// server serves one.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/cases"
	"github.com/kopilka/kopilka/coalition"
	"github.com/kopilka/kopilka/importer"
	"github.com/kopilka/kopilka/jobs"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/members"
	"github.com/kopilka/kopilka/notify"
	"github.com/kopilka/kopilka/privacy"
	"github.com/kopilka/kopilka/programme"
	"github.com/kopilka/kopilka/purchases"
	"github.com/kopilka/kopilka/reports"
	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/surveys"
	"github.com/kopilka/kopilka/testclock"
)

// App is every use case of the programme over one database.
type App struct {
	DB  *storage.DB
	Env *kopilka.Env

	Programme *programme.Service
	Members   *members.Service
	Ledger    *ledger.Service
	Purchases *purchases.Service
	Coalition *coalition.Service
	Access    *access.Service
	Jobs      *jobs.Service
	// Notify sends the outbox's messages; it sends nothing until SetSender.
	Notify *notify.Dispatcher
	// Clock is the test clock, off unless Clock.Enabled is set and Start run.
	Clock *testclock.Service
	// Privacy answers members' requests about their personal data.
	Privacy *privacy.Service
	// Cases keeps the service centre's cases.
	Cases *cases.Service
	// Reports gives the programme's figures.
	Reports *reports.Service
	// Import brings history in from files.
	Import *importer.Service
	// Surveys asks members NPS, CSI and CES questions.
	Surveys *surveys.Service
}

// New wires the use cases over db with the real clock and randomness, the
// Russian region for national phone numbers, settings and stores reused
// for five seconds, and adjustments by the support role limited to 1,000
// points each, 20,000 a day per operator and 2,000 a day per member.
func New(db *storage.DB) *App {
	env := kopilka.NewEnv()
	const ttl = 5 * time.Second
	a := &App{DB: db, Env: env}
	a.Coalition = &coalition.Service{DB: storage.For[coalition.Tx](db), Env: env, TTL: ttl}
	a.Programme = &programme.Service{DB: storage.For[programme.Tx](db), Env: env, TTL: ttl, Sites: a.Coalition}
	a.Coalition.Live = a.Programme
	a.Members = &members.Service{DB: storage.For[members.Tx](db), Env: env, Region: "RU", Live: a.Programme}
	a.Ledger = &ledger.Service{DB: storage.For[ledger.Tx](db), Env: env, Live: a.Programme,
		SupportLimit: 1000, SupportDailyLimit: 20_000, SupportMemberDailyLimit: 2_000}
	a.Purchases = &purchases.Service{DB: storage.For[purchases.Tx](db), Env: env, Live: a.Programme, Sites: a.Coalition}
	a.Access = &access.Service{DB: storage.For[access.Tx](db), Env: env, Region: "RU"}
	a.Jobs = &jobs.Service{DB: storage.For[jobs.Tx](db), Env: env, Live: a.Programme}
	a.Notify = &notify.Dispatcher{DB: storage.For[notify.Tx](db), Env: env, Logger: slog.Default()}
	a.Access.Wake, a.Members.Wake = a.Notify.Wake, a.Notify.Wake
	a.Clock = &testclock.Service{DB: storage.For[testclock.Tx](db), Env: env}
	a.Privacy = &privacy.Service{DB: storage.For[privacy.Tx](db), Env: env}
	a.Reports = &reports.Service{DB: storage.For[reports.Tx](db), Refreshes: storage.For[reports.RefreshTx](db),
		Holdouts: storage.For[reports.HoldoutTx](db), Env: env, Live: a.Programme}
	a.Cases = &cases.Service{DB: storage.For[cases.Tx](db), Env: env, Ledger: a.Ledger}
	a.Surveys = &surveys.Service{DB: storage.For[surveys.Tx](db), Env: env, Ledger: a.Ledger}
	a.Import = &importer.Service{DB: storage.For[importer.Tx](db), Members: storage.For[importer.MembersTx](db),
		Jobs: storage.For[importer.JobTx](db), Env: env, Live: a.Programme, Region: "RU",
		Pricer: a.Purchases}
	return a
}

// SetSender sets what delivers messages to members (one-time codes, card
// replacements) and, when it is not nil, lets members sign in by code.
// Messages are sent by a.Notify: run it (Run) or flush it (Flush).
func (a *App) SetSender(s notify.Sender) {
	a.Notify.Sender = s
	a.Access.SignInByCode = s != nil
}

// SetRegion sets how national phone numbers are read ("RU": 8 916 … is +7 916 …).
func (a *App) SetRegion(region string) {
	a.Members.Region, a.Access.Region, a.Import.Region = region, region, region
}

// SetTTL sets how long the programme and the stores read for receipts are
// reused before they are read again (zero: read every time).
func (a *App) SetTTL(d time.Duration) {
	a.Programme.TTL, a.Coalition.TTL = d, d
}

// Verify checks the ledger's invariants over the whole database and
// returns every breach it finds.
func (a *App) Verify(ctx context.Context) ([]kopilka.Breach, error) { return a.DB.Verify(ctx) }
