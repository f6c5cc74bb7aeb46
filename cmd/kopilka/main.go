// Command kopilka runs the Kopilka loyalty service and its tools.
//
//	kopilka serve          run the API (SQLite file kopilka.db unless KOPILKA_DATABASE_URL says otherwise)
//	kopilka migrate        apply the database migrations and exit
//	kopilka verify         check the ledger invariants; exit 1 on a breach
//	kopilka jobs run-once  run the background jobs once (points, tiers, birthdays), then exit
//	kopilka bench          drive a running server with concurrent tills
//	kopilka version        print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	kopilkahttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/notify"
	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/postgres"
	"github.com/kopilka/kopilka/storage/sqlite"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the flags were printed; asking for help is no failure
		}
		fmt.Fprintln(os.Stderr, "kopilka:", err)
		os.Exit(1)
	}
}

const usage = `usage: kopilka <command> [flags]

commands:
  serve          run the API server (creates the database if it does not exist)
  migrate        apply database migrations and exit
  verify         check the ledger invariants; exit status 1 on a breach
  jobs run-once  run the background jobs once and exit: activate pending points,
                 expire old points, review tiers that are due, give birthday bonuses
  import         import receipt lines from a CSV (Online Retail, Complete Journey,
                 CDNOW, Groceries ready; any other by a mapping): members, stores,
                 purchases and returns with their dates; re-running changes nothing
  analytics      print the cohort table, RFM segments, churn risk and basket rules
                 of a span (analytics report), or tag members now (analytics refresh)
  bench          drive a running server with concurrent tills and report throughput
  operator create
                 add a back-office operator (the first administrator), the password
                 from KOPILKA_OPERATOR_PASSWORD or standard input
  version        print the version

Run 'kopilka <command> -h' for the command's flags. Every flag can also be
set by an environment variable named KOPILKA_<FLAG> (KOPILKA_DATABASE_URL).
migrate, verify and jobs run-once say which database they use and refuse to
create a SQLite file that does not exist unless given -create.

KOPILKA_BOOTSTRAP_KEY (serve): an admin API key to store at start. Without
it, the first start on an empty database makes one and prints it once.`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest)
	case "migrate":
		return migrate(ctx, rest)
	case "verify":
		return verify(ctx, rest)
	case "jobs":
		if len(rest) == 0 || rest[0] != "run-once" {
			return errors.New("usage: kopilka jobs run-once")
		}
		return jobsRunOnce(ctx, rest[1:])
	case "operator":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New("usage: kopilka operator create -email … [-role admin]")
		}
		return operatorCreate(ctx, rest[1:], os.Stdin)
	case "import":
		return importCmd(ctx, rest, os.Stdout, os.Stderr)
	case "analytics":
		return analyticsCmd(ctx, rest, os.Stdout)
	case "bench":
		return bench(ctx, rest)
	case "version", "-version", "--version":
		fmt.Println("kopilka", Version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Println(usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// config is what the commands that open the database share.
type config struct {
	databaseURL string
	maxConns    int
	region      string
	// create lets a SQLite file that does not exist be made (serve always may).
	create bool
}

// newFlags makes a flag set whose defaults come from KOPILKA_* variables.
func newFlags(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", ""),
		"database: sqlite:///path/file.db or postgres://… (default: SQLite file kopilka.db in the working directory)")
	fs.IntVar(&c.maxConns, "max-conns", envInt("MAX_CONNS", 32), "most database connections (PostgreSQL)")
	fs.StringVar(&c.region, "phone-region", env("PHONE_REGION", "RU"), "region for phone numbers given without a country code")
	return fs
}

func env(name, def string) string {
	if v, ok := os.LookupEnv("KOPILKA_" + name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(env(name, "")); err == nil {
		return v
	}
	return def
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(env(name, ""))
	return v
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(env(name, ""), 64); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(env(name, "")); err == nil {
		return v
	}
	return def
}

// openStore opens the database the URL names and migrates it. A SQLite
// file that does not exist is made only when c.create is set.
func openStore(ctx context.Context, c config) (*storage.DB, error) {
	u := c.databaseURL
	path := ""
	switch {
	case u == "":
		path = "kopilka.db"
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return postgres.Open(ctx, u, c.maxConns)
	case strings.HasPrefix(u, "sqlite://"):
		path = strings.TrimPrefix(u, "sqlite://")
	case strings.HasPrefix(u, "sqlite:"):
		path = strings.TrimPrefix(u, "sqlite:")
	default:
		return nil, fmt.Errorf("database url %q: use sqlite:///path/file.db or postgres://…", u)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !c.create {
		return nil, fmt.Errorf("no SQLite database at %s: give -database-url (KOPILKA_DATABASE_URL), or -create to make a new one", path)
	}
	return sqlite.Open(ctx, path)
}

// describe names the database a URL opens, without its password.
func describe(u string) string {
	switch {
	case u == "":
		return "SQLite file kopilka.db"
	case strings.HasPrefix(u, "sqlite:"):
		return "SQLite file " + strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
	}
	if pu, err := url.Parse(u); err == nil {
		return "PostgreSQL " + pu.Redacted()
	}
	return "the database"
}

// openFromFlags parses the database flags of a command that only needs the
// database, and opens (and migrates) it.
func openFromFlags(ctx context.Context, name string, args []string) (*storage.DB, config, error) {
	var c config
	fs := newFlags(name, &c)
	fs.BoolVar(&c.create, "create", false, "make the SQLite file if it does not exist (default: refuse, so that a wrong path is not taken for an empty database)")
	if err := fs.Parse(args); err != nil {
		return nil, c, err
	}
	fmt.Fprintln(os.Stderr, "kopilka "+name+": using", describe(c.databaseURL))
	db, err := openStore(ctx, c)
	return db, c, err
}

func newService(db *storage.DB, c config) *app.App {
	svc := app.New(db)
	svc.SetRegion(c.region)
	return svc
}

func serve(ctx context.Context, args []string) error {
	var c config
	fs := newFlags("serve", &c)
	addr := fs.String("addr", env("ADDR", ":8080"), "address to listen on")
	jobEvery := fs.Duration("job-interval", envDuration("JOB_INTERVAL", time.Minute), "how often to activate and expire points (0: never)")
	logFormat := fs.String("log-format", env("LOG_FORMAT", "json"), "log format: json or text")
	rateLimit := fs.Float64("rate-limit", envFloat("RATE_LIMIT", 100), "requests per second one API key may make on this instance (0: no limit)")
	rateBurst := fs.Int("rate-burst", envInt("RATE_BURST", 200), "requests one API key may make at once above its rate")
	supportLimit := fs.Int64("support-adjustment-limit", int64(envInt("SUPPORT_ADJUSTMENT_LIMIT", 1000)), "the most points one adjustment by the support role may add or take")
	supportDaily := fs.Int64("support-daily-limit", int64(envInt("SUPPORT_DAILY_LIMIT", 20_000)), "the most points one support operator may add and take in all in a day (0: no limit)")
	supportMemberDaily := fs.Int64("support-member-daily-limit", int64(envInt("SUPPORT_MEMBER_DAILY_LIMIT", 2_000)), "the most points the support role may add and take on one member in a day (0: no limit)")
	otpWebhook := fs.String("otp-webhook", env("OTP_WEBHOOK", ""), "URL that gets members' one-time codes as JSON {channel, to, text} to send by SMS or e-mail (default: none; member sign-in by code is off)")
	mapTiles := fs.String("map-tiles", env("MAP_TILES", ""), "address pattern of map tiles for the pages' store maps, such as https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: no map; the pages list the stores)")
	otpLog := fs.Bool("otp-log", env("OTP_LOG", "") == "true" || env("OTP_LOG", "") == "1", "write members' one-time codes to this log instead of sending them: for development only")
	otpWebhookToken := fs.String("otp-webhook-token", env("OTP_WEBHOOK_TOKEN", ""), "bearer token sent to the one-time code webhook")
	testClock := fs.Bool("test-clock", envBool("TEST_CLOCK"), "run on the test clock, for rehearsing time on a copy of the programme: the clock stands still and an admin moves it forward (POST /v1/clock); never in production")
	pprofAddr := fs.String("pprof-addr", env("PPROF_ADDR", ""), "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060 (default: off)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kopilka serve [flags]\n\nKOPILKA_BOOTSTRAP_KEY: an admin API key to store at start; without it the first start on an\nempty database makes one and prints it once.\n\nflags (each also KOPILKA_<FLAG>):")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var handler slog.Handler = slog.NewJSONHandler(os.Stderr, nil)
	if *logFormat == "text" {
		handler = slog.NewTextHandler(os.Stderr, nil)
	}
	logger := slog.New(handler)
	// Bind first: a start that cannot listen (the port is taken) stops here,
	// before it prints a first admin key nobody could use.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running there? stop it, or give -addr)", *addr, err)
	}
	defer ln.Close()
	c.create = true
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newService(db, c)
	if *testClock {
		svc.Clock.Enabled = true
		if err := svc.Clock.Start(ctx); err != nil {
			return fmt.Errorf("test clock: %w", err)
		}
		logger.Warn("TEST CLOCK: this server runs on the test clock, not the real time; an admin moves it with POST /v1/clock. For rehearsals on a copy of the programme only",
			"now", svc.Env.Time())
		go syncClock(ctx, svc, logger)
	}
	if err := bootstrapKey(ctx, svc, logger); err != nil {
		return err
	}
	api := kopilkahttp.NewServer(svc, logger, Version)
	if *mapTiles != "" {
		if !strings.Contains(*mapTiles, "{z}") || !strings.Contains(*mapTiles, "{x}") || !strings.Contains(*mapTiles, "{y}") ||
			!(strings.HasPrefix(*mapTiles, "https://") || strings.HasPrefix(*mapTiles, "http://")) {
			return fmt.Errorf("-map-tiles %q: give an http(s) address with {z}, {x} and {y}", *mapTiles)
		}
		api.Site.TileURL = *mapTiles
	}
	api.RateLimit, api.RateBurst = *rateLimit, *rateBurst
	svc.Ledger.SupportLimit, svc.Ledger.SupportDailyLimit, svc.Ledger.SupportMemberDailyLimit = *supportLimit, *supportDaily, *supportMemberDaily
	svc.Notify.Logger = logger
	switch {
	case *otpWebhook != "":
		svc.SetSender(notify.Webhook{URL: *otpWebhook, Token: *otpWebhookToken})
	case *otpLog:
		svc.SetSender(notify.LogSender{Logger: logger})
		logger.Warn("members' one-time codes are written to this log, not sent (KOPILKA_OTP_LOG): for development only")
	default:
		logger.Warn("no sender of messages to members: sign-in by one-time code is off, and notices to members (a card replaced) wait in the outbox, unsent, for a week; set KOPILKA_OTP_WEBHOOK to send them through a gateway (or KOPILKA_OTP_LOG=1 to write them to the log, for development)")
	}
	srv := &http.Server{Addr: *addr, Handler: api, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	if *jobEvery > 0 {
		go runJobs(ctx, svc, logger, *jobEvery)
	}
	// Messages to members (one-time codes) go out from the outbox as soon
	// as they are written, and every second for retries and for messages
	// other instances wrote.
	go svc.Notify.Run(ctx, time.Second)
	if *pprofAddr != "" {
		// The profiler gets its own listener, never the API's.
		go func() { logger.Error("pprof", "err", http.ListenAndServe(*pprofAddr, pprofMux())) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("kopilka serving", "addr", *addr, "database", db.Dialect(), "version", Version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// bootstrapKey makes sure an admin key exists: KOPILKA_BOOTSTRAP_KEY if set,
// else a generated one that is printed once.
func bootstrapKey(ctx context.Context, svc *app.App, logger *slog.Logger) error {
	ctx = kopilka.NewContextWithPrincipal(ctx, kopilka.System("bootstrap"))
	if secret := env("BOOTSTRAP_KEY", ""); secret != "" {
		created, err := svc.Access.EnsureKey(ctx, "bootstrap", secret)
		if err != nil {
			return fmt.Errorf("bootstrap key: %w", err)
		}
		if created {
			logger.Info("stored the admin key from KOPILKA_BOOTSTRAP_KEY")
		}
		return nil
	}
	has, err := svc.Access.HasKeys(ctx)
	if err != nil || has {
		return err
	}
	k, err := svc.Access.CreateKey(ctx, kopilka.APIKey{Name: "bootstrap", Role: kopilka.RoleAdmin}, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\nFirst start: an admin API key was created. It is shown only this once:\n\n    %s\n\n", k.Secret)
	return nil
}

// syncClock follows the test clock that another instance (or an admin on
// it) moved, every second.
func syncClock(ctx context.Context, svc *app.App, logger *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := svc.Clock.Sync(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("test clock", "err", err)
			}
		}
	}
}

func runJobs(ctx context.Context, svc *app.App, logger *slog.Logger, every time.Duration) {
	ctx = kopilka.NewContextWithPrincipal(ctx, kopilka.System("jobs"))
	t := time.NewTicker(every)
	defer t.Stop()
	var refreshed time.Time
	for {
		// Members' RFM segments and churn risk are tagged once a day.
		if now := svc.Env.Time(); now.Sub(refreshed) >= 24*time.Hour {
			if r, err := svc.Reports.Refresh(ctx); err != nil && ctx.Err() == nil {
				logger.Error("analytics refresh", "err", err)
			} else if err == nil {
				refreshed = now
				logger.Info("analytics refresh", "scored", r.Scored, "changed", r.Changed, "at_risk", r.AtRisk, "newly_at_risk", r.NewRisk)
			}
		}
		if n, err := svc.Surveys.Invite(ctx); err != nil && ctx.Err() == nil {
			logger.Error("survey invitations", "err", err)
		} else if n > 0 {
			logger.Info("survey invitations", "sent", n)
		}
		rep, err := svc.Jobs.RunJobs(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Error("points job", "err", err)
		} else if rep.Activated+rep.Expired+rep.TiersReviewed+rep.Birthdays+rep.StaleCodes > 0 {
			logger.Info("points job", "activated_members", rep.Activated, "expired_members", rep.Expired,
				"tiers_reviewed", rep.TiersReviewed, "birthday_bonuses", rep.Birthdays, "stale_codes", rep.StaleCodes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func migrate(ctx context.Context, args []string) error {
	db, _, err := openFromFlags(ctx, "migrate", args) // opening migrates
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Println("migrated", db.Dialect(), "database")
	return nil
}

func verify(ctx context.Context, args []string) error {
	db, _, err := openFromFlags(ctx, "verify", args)
	if err != nil {
		return err
	}
	defer db.Close()
	breaches, err := db.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Println("checked:\n" + storage.Invariants())
	if len(breaches) == 0 {
		fmt.Println("ledger ok: no breach")
		return nil
	}
	for _, b := range breaches {
		fmt.Printf("BREACH %s: %s\n", b.Invariant, b.Detail)
	}
	return fmt.Errorf("%d ledger invariant breaches", len(breaches))
}

func jobsRunOnce(ctx context.Context, args []string) error {
	testClock := envBool("TEST_CLOCK")
	for i, a := range args {
		if a == "-test-clock" || a == "--test-clock" {
			testClock, args = true, append(args[:i:i], args[i+1:]...)
			break
		}
	}
	db, c, err := openFromFlags(ctx, "jobs run-once", args)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newService(db, c)
	if testClock {
		svc.Clock.Enabled = true
		if err := svc.Clock.Start(ctx); err != nil {
			return fmt.Errorf("test clock: %w", err)
		}
		fmt.Fprintln(os.Stderr, "kopilka jobs run-once: on the test clock at", svc.Env.Time().Format(time.RFC3339))
	}
	rep, err := svc.Jobs.RunJobs(kopilka.NewContextWithPrincipal(ctx, kopilka.System("jobs run-once")))
	if err != nil {
		return err
	}
	fmt.Printf("activated points of %d members, expired points of %d members, reviewed the tiers of %d members, gave %d birthday bonuses\n",
		rep.Activated, rep.Expired, rep.TiersReviewed, rep.Birthdays)
	return nil
}
