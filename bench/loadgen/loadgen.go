// Package loadgen drives a running Kopilka server over its HTTP API the way
// a chain of tills does, and measures how many purchases it confirms per
// second and how long a confirmation takes.
//
// Setup creates the members (or finds them again, so a run may repeat on the
// same database), makes earned points spendable at once and gives every
// member a starting balance. Then each till loops: it picks one of its
// members, builds a receipt of 1 to 5 grocery lines and confirms it, with
// points spent on about SpendShare of the receipts. A till knows the balance
// of its members from the answers it gets, so it asks to spend only what the
// programme allows and nearly every confirmation succeeds.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what to run.
type Config struct {
	BaseURL    string        // the server, e.g. http://127.0.0.1:8080
	Key        string        // an admin API key, sent as a bearer token
	Members    int           // members to create (default 1000)
	Tills      int           // concurrent tills, each with its own connection (default 16)
	Duration   time.Duration // how long to measure (default 20s)
	Warmup     time.Duration // how long to run before measuring (0: none)
	Seed       uint64        // decides the members' phones and the receipts
	SpendShare float64       // share of receipts that spend points (default 0.5; negative: none)
	// Calculate quotes each receipt before confirming it, as a till that
	// shows the customer the points first. Only confirmations are timed.
	Calculate    bool
	StartPoints  int64         // each member's starting balance (default 1000)
	RequestLimit time.Duration // timeout of one request (default 30s)
	Log          io.Writer     // progress notes; nil: none
}

// Result holds the figures of a run. Latencies are of successful
// confirmations only, in milliseconds.
type Result struct {
	URL            string            `json:"url"`
	Members        int               `json:"members"`
	Tills          int               `json:"tills"`
	WarmupSeconds  float64           `json:"warmup_s"`
	Seconds        float64           `json:"seconds"`
	Confirmed      int64             `json:"confirmed"`
	ConfirmedSpend int64             `json:"confirmed_with_spend"`
	Rejected       int64             `json:"rejected"`                // 422: not enough points or over the spend limit
	Errors         map[string]int64  `json:"errors"`                  // failed requests by "route status code"
	Samples        map[string]string `json:"error_samples,omitempty"` // the first message of each kind
	Calculated     int64             `json:"calculated"`
	PerSecond      float64           `json:"purchases_per_sec"`
	P50            float64           `json:"p50_ms"`
	P90            float64           `json:"p90_ms"`
	P99            float64           `json:"p99_ms"`
	Max            float64           `json:"max_ms"`
	Mean           float64           `json:"mean_ms"`
	PointsEarned   int64             `json:"points_earned"`
	PointsSpent    int64             `json:"points_spent"`
	SetupSeconds   float64           `json:"setup_s"`
}

func (c *Config) defaults() error {
	if c.Members == 0 {
		c.Members = 1000
	}
	if c.Tills == 0 {
		c.Tills = 16
	}
	if c.Duration == 0 {
		c.Duration = 20 * time.Second
	}
	if c.SpendShare == 0 {
		c.SpendShare = 0.5
	}
	if c.StartPoints == 0 {
		c.StartPoints = 1000
	}
	if c.RequestLimit == 0 {
		c.RequestLimit = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	switch {
	case c.BaseURL == "":
		return errors.New("no server URL")
	case c.Key == "":
		return errors.New("no API key")
	case c.Members < 1 || c.Members > 10_000_000:
		return errors.New("members must be between 1 and 10000000")
	case c.Tills < 1 || c.Tills > 10_000:
		return errors.New("tills must be between 1 and 10000")
	case c.Duration < 0 || c.Warmup < 0:
		return errors.New("durations must not be negative")
	case c.SpendShare > 1:
		return errors.New("spend share must be at most 1")
	}
	return nil
}

// member is a member as the tills know it.
type member struct {
	id        string
	available atomic.Int64 // points the member may spend, as the last answer said
}

// runner holds what the setup learnt.
type runner struct {
	cfg     Config
	client  *http.Client
	runID   string
	members []*member
	// The programme's limits, to ask for no more points than it allows.
	pointValue int64
	maxSpend   int64 // hundredths of a percent
}

// Run sets up the members and drives the tills, and reports what it measured.
// A cancelled ctx ends the measurement early with the figures so far.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	conns := max(cfg.Tills, setupWorkers(cfg.Tills))
	tr := &http.Transport{
		Proxy:               nil, // the server is ours: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns, // keep one connection per till alive
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	r := &runner{
		cfg:    cfg,
		client: &http.Client{Transport: tr, Timeout: cfg.RequestLimit},
		runID:  strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	if st, body, err := r.do(ctx, "GET", "/readyz", nil, nil); err != nil {
		return nil, fmt.Errorf("server %s does not answer: %w", cfg.BaseURL, err)
	} else if st != http.StatusOK {
		return nil, fmt.Errorf("server %s is not ready: %s", cfg.BaseURL, problem(st, body))
	}
	start := time.Now()
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	setup := time.Since(start)
	fmt.Fprintf(cfg.Log, "setup: %d members ready in %.1fs\n", len(r.members), setup.Seconds())
	res := r.measure(ctx)
	res.SetupSeconds = setup.Seconds()
	return res, nil
}

func setupWorkers(tills int) int { return min(max(tills, 8), 32) }

// do sends one request and reads the whole answer, so the connection is reused.
func (r *runner) do(ctx context.Context, method, path string, body []byte, header map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.cfg.BaseURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// call sends a JSON request and decodes a JSON answer of the wanted status
// into out; any other status is an error that quotes the problem.
func (r *runner) call(ctx context.Context, method, path string, in any, want int, out any, header map[string]string) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, err
		}
	}
	st, b, err := r.do(ctx, method, path, body, header)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if st != want {
		return st, fmt.Errorf("%s %s: %s", method, path, problem(st, b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return st, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
		}
	}
	return st, nil
}

// problem summarises an error answer: its status, code and detail.
func problem(status int, body []byte) string {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) == nil && p.Code != "" {
		return fmt.Sprintf("%d %s: %s", status, p.Code, p.Detail)
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return fmt.Sprintf("%d %s", status, s)
}

// setup makes earned points spendable at once and gives every member a
// starting balance.
func (r *runner) setup(ctx context.Context) error {
	var prog struct {
		PointValue  int64           `json:"point_value"`
		MaxSpend    json.RawMessage `json:"max_spend_percent"`
		PendingDays int             `json:"pending_days"`
	}
	if _, err := r.call(ctx, "PATCH", "/v1/programme", map[string]int{"pending_days": 0}, http.StatusOK, &prog, nil); err != nil {
		return fmt.Errorf("setting the programme: %w", err)
	}
	pct, err := hundredths(prog.MaxSpend)
	if err != nil || prog.PointValue < 1 {
		return fmt.Errorf("the programme's answer has point_value %d and max_spend_percent %s", prog.PointValue, prog.MaxSpend)
	}
	r.pointValue, r.maxSpend = prog.PointValue, pct
	// The tills' stores: receipts at stores the programme does not know are refused.
	if _, err := r.call(ctx, "PUT", "/v1/partners/bench", map[string]string{"name": "Bench partner"}, http.StatusOK, nil, nil); err != nil {
		return fmt.Errorf("registering the partner: %w", err)
	}
	for i := range 100 {
		body := map[string]string{"partner_id": "bench", "name": fmt.Sprintf("Bench store %02d", i)}
		if _, err := r.call(ctx, "PUT", "/v1/stores/"+benchStore(i), body, http.StatusOK, nil, nil); err != nil {
			return fmt.Errorf("registering the stores: %w", err)
		}
	}
	fmt.Fprintf(r.cfg.Log, "setup: programme: pending_days %d, point_value %d, max_spend_percent %s; creating %d members\n",
		prog.PendingDays, prog.PointValue, prog.MaxSpend, r.cfg.Members)

	r.members = make([]*member, r.cfg.Members)
	next := atomic.Int64{}
	var (
		mu       sync.Mutex
		firstErr error
		reused   atomic.Int64
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range setupWorkers(r.cfg.Tills) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= r.cfg.Members || ctx.Err() != nil {
					return
				}
				m, old, err := r.setupMember(ctx, i)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("setting up member %d: %w", i, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				if old {
					reused.Add(1)
				}
				r.members[i] = m
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n := reused.Load(); n > 0 {
		fmt.Fprintf(r.cfg.Log, "setup: %d of the members existed already (same -seed on the same database)\n", n)
	}
	return nil
}

// phone gives member i of the seed's series a unique Russian mobile number.
func benchStore(i int) string { return fmt.Sprintf("bench-store-%02d", i) }

func (r *runner) phone(i int) string {
	offset := (r.cfg.Seed * 7_654_321) % 10_000_000
	return fmt.Sprintf("+7999%07d", (offset+uint64(i))%10_000_000)
}

func (r *runner) setupMember(ctx context.Context, i int) (*member, bool, error) {
	phone := r.phone(i)
	var m struct {
		ID string `json:"id"`
	}
	st, err := r.call(ctx, "POST", "/v1/members", map[string]string{"phone": phone, "name": fmt.Sprintf("Bench Member %d", i)},
		http.StatusCreated, &m, nil)
	old := st == http.StatusConflict
	if old { // made by an earlier run: find it
		_, err = r.call(ctx, "GET", "/v1/members?phone="+url.QueryEscape(phone), nil, http.StatusOK, &m, nil)
	}
	if err != nil {
		return nil, false, err
	}
	if m.ID == "" {
		return nil, false, errors.New("the member's answer has no id")
	}
	path := "/v1/members/" + url.PathEscape(m.ID)
	if r.cfg.StartPoints > 0 {
		if _, err := r.call(ctx, "POST", path+"/adjustments", map[string]any{"points": r.cfg.StartPoints, "reason": "bench"},
			http.StatusCreated, nil, map[string]string{"Idempotency-Key": "bench-" + r.runID + "-" + strconv.Itoa(i)}); err != nil {
			return nil, false, err
		}
	}
	var b struct {
		Available int64 `json:"available"`
	}
	if _, err := r.call(ctx, "GET", path+"/balance", nil, http.StatusOK, &b, nil); err != nil {
		return nil, false, err
	}
	mb := &member{id: m.ID}
	mb.available.Store(b.Available)
	return mb, old, nil
}

// hundredths reads a percent such as "30" or "27.5" in hundredths.
func hundredths(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 100 {
		return 0, fmt.Errorf("percent %q", s)
	}
	return int64(math.Round(f * 100)), nil
}

// tillStats is what one till counted; merged when the run ends.
type tillStats struct {
	latencies    []time.Duration
	confirmed    int64
	withSpend    int64
	rejected     int64
	calculated   int64
	earned       int64
	spent        int64
	errors       map[string]int64
	samples      map[string]string
	lastFinished time.Time
}

type receipt struct {
	ReceiptID   string `json:"receipt_id"`
	StoreID     string `json:"store_id"`
	MemberID    string `json:"member_id"`
	Lines       []line `json:"lines"`
	SpendPoints int64  `json:"spend_points"`
}

type quote struct {
	Earned   int64 `json:"earned"`
	Spent    int64 `json:"spent"`
	MaxSpend int64 `json:"max_spend"`
	Balance  struct {
		Available int64 `json:"available"`
	} `json:"balance"`
}

type problemDoc struct {
	Code      string `json:"code"`
	Available *int64 `json:"available"`
}

// measure runs the tills through the warm-up and the measured period.
func (r *runner) measure(ctx context.Context) *Result {
	cfg := r.cfg
	begin := time.Now()
	from := begin.Add(cfg.Warmup) // requests started before this are not counted
	until := from.Add(cfg.Duration)
	fmt.Fprintf(cfg.Log, "measuring: %d tills for %s after %s of warm-up\n", cfg.Tills, cfg.Duration, cfg.Warmup)
	stats := make([]*tillStats, cfg.Tills)
	var wg sync.WaitGroup
	for t := range cfg.Tills {
		stats[t] = &tillStats{errors: map[string]int64{}, samples: map[string]string{}, latencies: make([]time.Duration, 0, 4096)}
		wg.Go(func() { r.till(ctx, t, from, until, stats[t]) })
	}
	wg.Wait()

	res := &Result{URL: cfg.BaseURL, Members: len(r.members), Tills: cfg.Tills,
		WarmupSeconds: cfg.Warmup.Seconds(), Errors: map[string]int64{}, Samples: map[string]string{}}
	var all []time.Duration
	end := from
	for _, s := range stats {
		all = append(all, s.latencies...)
		res.Confirmed += s.confirmed
		res.ConfirmedSpend += s.withSpend
		res.Rejected += s.rejected
		res.Calculated += s.calculated
		res.PointsEarned += s.earned
		res.PointsSpent += s.spent
		for k, v := range s.errors {
			res.Errors[k] += v
		}
		for k, v := range s.samples {
			if _, ok := res.Samples[k]; !ok {
				res.Samples[k] = v
			}
		}
		if s.lastFinished.After(end) {
			end = s.lastFinished
		}
	}
	if end.After(from) {
		res.Seconds = end.Sub(from).Seconds()
		res.PerSecond = float64(res.Confirmed) / res.Seconds
	}
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }
	if n := len(all); n > 0 {
		pct := func(p float64) time.Duration { // nearest rank
			return all[max(0, int(math.Ceil(p*float64(n)))-1)]
		}
		var sum time.Duration
		for _, d := range all {
			sum += d
		}
		res.P50, res.P90, res.P99, res.Max = ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(all[n-1])
		res.Mean = ms(sum / time.Duration(n))
	}
	return res
}

// till is one point of sale: it confirms receipts until the time is up.
func (r *runner) till(ctx context.Context, t int, from, until time.Time, st *tillStats) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(t)+1))
	// A till serves its own members, so that its idea of their balance is
	// exact; with fewer members than tills, tills share them.
	var mine []*member
	for i := t % len(r.members); i < len(r.members); i += r.cfg.Tills {
		mine = append(mine, r.members[i])
	}
	store := benchStore(t % 100)
	for n := 0; ; n++ {
		started := time.Now()
		if !started.Before(until) || ctx.Err() != nil {
			return
		}
		counted := !started.Before(from)
		count := func(route string, status int, body []byte, err error) {
			if !counted || ctx.Err() != nil {
				return
			}
			key, msg := route+" transport", ""
			if err == nil {
				var p problemDoc
				_ = json.Unmarshal(body, &p)
				key, msg = strings.TrimSpace(fmt.Sprintf("%s %d %s", route, status, p.Code)), problem(status, body)
			} else {
				msg = err.Error()
			}
			if st.errors[key]++; st.errors[key] == 1 {
				st.samples[key] = msg
			}
		}
		m := mine[rng.IntN(len(mine))]
		lines, total := basket(rng)
		rc := receipt{ReceiptID: fmt.Sprintf("bench-%s-%d-%d", r.runID, t, n), StoreID: store, MemberID: m.id, Lines: lines}
		if rng.Float64() < r.cfg.SpendShare {
			if limit := min(r.spendLimit(lines, total), m.available.Load()); limit > 0 {
				rc.SpendPoints = 1 + rng.Int64N(limit)
			}
		}
		if r.cfg.Calculate {
			calc := rc
			calc.SpendPoints = 0
			body, _ := json.Marshal(calc)
			status, b, err := r.do(ctx, "POST", "/v1/purchases/calculate", body, nil)
			if err != nil || status != http.StatusOK {
				count("calculate", status, b, err)
				if err != nil && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
				continue
			}
			var q quote
			if json.Unmarshal(b, &q) == nil {
				rc.SpendPoints = min(rc.SpendPoints, q.MaxSpend)
			}
			if counted {
				st.calculated++
			}
		}
		body, _ := json.Marshal(rc)
		t0 := time.Now()
		status, b, err := r.do(ctx, "POST", "/v1/purchases", body, nil)
		lat := time.Since(t0)
		st.lastFinished = time.Now()
		switch {
		case err == nil && status == http.StatusOK:
			var q quote
			if json.Unmarshal(b, &q) != nil {
				count("confirm", status, []byte(`{"code":"unreadable-answer"}`), nil)
				continue
			}
			m.available.Store(q.Balance.Available)
			if counted {
				st.confirmed++
				st.latencies = append(st.latencies, lat)
				st.earned += q.Earned
				st.spent += q.Spent
				if q.Spent > 0 {
					st.withSpend++
				}
			}
		case err == nil && status == http.StatusUnprocessableEntity:
			var p problemDoc
			_ = json.Unmarshal(b, &p)
			if p.Code == "insufficient-points" || p.Code == "spend-limit-exceeded" {
				if p.Available != nil {
					m.available.Store(*p.Available)
				}
				if counted {
					st.rejected++
				}
			}
			count("confirm", status, b, nil)
		default:
			count("confirm", status, b, err)
			if err != nil && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond) // a till that cannot connect waits, not spins
			}
		}
	}
}

// spendLimit is the most points the programme lets pay for the receipt:
// its share of the total, and no more than each line's amount buys.
func (r *runner) spendLimit(lines []line, total int64) int64 {
	var capacity int64
	for _, l := range lines {
		capacity += l.Amount / r.pointValue
	}
	return min(total*r.maxSpend/(10_000*r.pointValue), capacity)
}

// Report writes the figures for a person to read.
func (res *Result) Report(w io.Writer) {
	fmt.Fprintf(w, "kopilka bench: %s, %d tills, %d members, measured %.1fs after %s warm-up\n",
		res.URL, res.Tills, res.Members, res.Seconds, time.Duration(res.WarmupSeconds*float64(time.Second)))
	share := 0.0
	if res.Confirmed > 0 {
		share = 100 * float64(res.ConfirmedSpend) / float64(res.Confirmed)
	}
	fmt.Fprintf(w, "  confirmed purchases  %d (%.0f%% spent points; %d points earned, %d spent)\n",
		res.Confirmed, share, res.PointsEarned, res.PointsSpent)
	if res.Calculated > 0 {
		fmt.Fprintf(w, "  quotes calculated    %d\n", res.Calculated)
	}
	fmt.Fprintf(w, "  rejected (422)       %d (not enough points or over the spend limit)\n", res.Rejected)
	if len(res.Errors) == 0 {
		fmt.Fprintf(w, "  errors               none\n")
	} else {
		keys := make([]string, 0, len(res.Errors))
		for k := range res.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			label := ""
			if i == 0 {
				label = "errors"
			}
			fmt.Fprintf(w, "  %-20s %d × %s (first: %s)\n", label, res.Errors[k], k, res.Samples[k])
		}
	}
	fmt.Fprintf(w, "  throughput           %.1f purchases/s\n", res.PerSecond)
	fmt.Fprintf(w, "  confirm latency      p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (mean %.2f ms)\n",
		res.P50, res.P90, res.P99, res.Max, res.Mean)
}
