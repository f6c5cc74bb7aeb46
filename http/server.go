// Package http serves Kopilka's JSON API under /v1 with the standard
// library's router: authentication by bearer API key, problem+json errors,
// request size limits, Prometheus metrics and structured logs.
package http

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/importer"
	"github.com/kopilka/kopilka/web"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return openAPI }

// Server is the HTTP API over a service.
type Server struct {
	App     *app.App
	Logger  *slog.Logger
	Version string
	// MaxBody limits request bodies, in bytes.
	MaxBody int64
	// Timeout bounds the work of one request; past it the request's context
	// ends and the answer is 503 unavailable. NewServer sets 20 s.
	Timeout time.Duration
	// KeyTTL is how long a checked API key is trusted before it is read again;
	// a revoked key stops working within this time on every instance.
	KeyTTL time.Duration
	// RateLimit is how many requests per second one API key may make on
	// this instance, with bursts of RateBurst; zero means no limit.
	RateLimit float64
	RateBurst int

	// Site serves the back office and the member app.
	Site *web.Site

	mux      *http.ServeMux
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	points   *prometheus.CounterVec
	// auditFailures counts refused or failed writes whose audit entry
	// could not be stored either.
	auditFailures prometheus.Counter

	keyMu    sync.Mutex
	keys     map[string]cachedKey
	touched  map[string]time.Time
	limiters map[string]*rate.Limiter
}

type cachedKey struct {
	key   kopilka.Principal
	until time.Time
}

// Route is one route of the API.
type Route struct {
	Method  string
	Pattern string
	// Action is the use case the route runs: access.Policy says who may
	// take it, and the use case asks it. "" is a route outside the use
	// cases (health, the API document), open to anybody.
	Action access.Action
	// Scope says what of one partner's the route names (see ScopePartner);
	// the use case finds another partner's as missing.
	Scope string
	// Status is the status the route answers with on success; the audit
	// entry of a write records it.
	Status int
	// In and Out are the Go types of the request body and of the answer on
	// success (nil: none, or not JSON); the API document's schemas are
	// made from them.
	In, Out reflect.Type
	// BodyOptional says that the request body may be left out.
	BodyOptional bool
	// FileBody says the body is a file (an import), not JSON: it may be up
	// to importer.MaxJobBody, and the audit log records its size only.
	FileBody bool
	// Summary says in a line what the route does; the API document's prose
	// is in openapi.prose.yaml.
	Summary string
	handle  func(w http.ResponseWriter, r *http.Request) error
}

// Roles returns the roles that may call the route (nil: anybody).
func (rt Route) Roles() []string { return access.Roles(rt.Action) }

// NewServer builds the server and its routes.
func NewServer(svc *app.App, logger *slog.Logger, version string) *Server {
	s := &Server{App: svc, Logger: logger, Version: version, MaxBody: 1 << 20, Timeout: 20 * time.Second, KeyTTL: 10 * time.Second,
		mux: http.NewServeMux(), registry: prometheus.NewRegistry(),
		keys: map[string]cachedKey{}, touched: map[string]time.Time{}, limiters: map[string]*rate.Limiter{}}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kopilka_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "status"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kopilka_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
	s.points = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kopilka_points_total", Help: "Points earned and spent by confirmed purchases, and moved by refunds.",
	}, []string{"kind"})
	s.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kopilka_audit_failures_total", Help: "Refused or failed writes whose audit log entry could not be stored.",
	})
	s.registry.MustRegister(s.requests, s.duration, s.points, s.auditFailures,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	for _, rt := range s.Routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	// The pages (package web) have their own table; each pattern is sent there.
	s.Site = web.New(svc, logger, StatusOf, requestID)
	s.Site.Forget = s.forgetPrincipals
	for _, p := range s.Site.Pages() {
		s.mux.Handle(p.Method+" "+p.Pattern, s.Site)
	}
	s.mux.HandleFunc("/", s.noRoute)
	return s
}

// noRoute answers 405 with Allow when the path takes other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		// "GET /" takes every GET path no other route does: it allows GET for "/" alone.
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" && (pattern != "GET /" || r.URL.Path == "/") {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, kopilka.Errorf(kopilka.EMETHOD, "%s takes %s, not %s", r.URL.Path, strings.Join(allow, ", "), r.Method))
		return
	}
	s.writeError(w, r, kopilka.Errorf(kopilka.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if !requestIDPattern.MatchString(id) { // it is stored and logged: plain characters only
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set("X-Request-Id", id)
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
}

// requestIDPattern is what a client's X-Request-Id may be; others are replaced.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

type requestIDKey struct{}

func requestID(ctx context.Context) string { id, _ := ctx.Value(requestIDKey{}).(string); return id }

// principalOf is who made the request (zero on a public route).
func principalOf(ctx context.Context) kopilka.Principal { return kopilka.PrincipalFrom(ctx) }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// wrap adds what every route gets: the body limit, the key check, the
// description of the call that a write's audit entry records, the rate
// limit, metrics and a log line. Who may do what is the use case's to ask.
func (s *Server) wrap(rt Route) http.Handler {
	name := rt.Method + " " + rt.Pattern
	public := len(rt.Roles()) == 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// No request works longer than Timeout: the use cases stop at the
		// context's end (a condition between two evaluations, a query at once).
		ctx, cancel := context.WithTimeout(r.Context(), s.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		limit := s.MaxBody
		if rt.FileBody {
			limit = importer.MaxJobBody + 1
		}
		r.Body = http.MaxBytesReader(sw, r.Body, limit)
		err := func() error {
			// Ids in the path are text the database must store: a NUL or bad
			// UTF-8 names nothing (and PostgreSQL would refuse it).
			if !kopilka.CleanText(r.URL.Path) {
				return kopilka.Errorf(kopilka.ENOTFOUND, "no such resource")
			}
			// So are query parameters: each names the one at fault.
			for name, vs := range r.URL.Query() {
				for _, v := range vs {
					if !kopilka.CleanText(name) {
						return kopilka.Invalid("query", "a parameter's name must be text without control characters")
					}
					if !kopilka.CleanText(v) {
						return kopilka.Invalid(name, "must be text without control characters or invalid UTF-8")
					}
				}
			}
			var who string // whose allowance the request takes
			if !public {
				p, err := s.authenticate(r)
				if err != nil {
					return err
				}
				r = r.WithContext(kopilka.NewContextWithPrincipal(r.Context(), p))
				who = p.ID
			} else if rt.Method == "POST" {
				who = "ip:" + sourceOf(r) // logins and codes: limited per address
			}
			if who != "" {
				if wait := s.throttle(who); wait > 0 {
					secs := int(math.Ceil(wait.Seconds()))
					sw.Header().Set("Retry-After", strconv.Itoa(secs))
					return &kopilka.Error{Code: kopilka.ERATELIMIT, Message: fmt.Sprintf("at most %g requests a second may be made with one key or session, or from one address to a public route; retry after %d s", s.RateLimit, secs),
						Extra: map[string]any{"retry_after": secs}}
				}
			}
			var call *kopilka.Call
			if rt.Method != "GET" {
				call = &kopilka.Call{Route: name, Path: strings.ToValidUTF8(r.URL.RequestURI(), "\uFFFD"),
					RequestID: requestID(r.Context()), Source: sourceOf(r), Status: rt.Status, StatusOf: StatusOf}
				r = r.WithContext(kopilka.NewContextWithCall(r.Context(), call))
			}
			// The policy before a body or a query is read: a caller without
			// the role learns nothing from the validation of its input, and
			// its refusal is recorded without the body it sent.
			if rt.Action != "" {
				if err := access.Allow(r.Context(), rt.Action); err != nil {
					if call != nil {
						target := r.PathValue("id")
						if target == "" {
							target = r.PathValue("number")
						}
						err = s.App.Access.Refused(r.Context(), rt.Action, target, err)
					}
					return err
				}
			}
			if call != nil {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					return err
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				call.Request = body
				if rt.FileBody {
					call.Request, _ = json.Marshal(map[string]int{"bytes": len(body)})
				}
			}
			return rt.handle(sw, r)
		}()
		if err != nil {
			s.writeError(sw, r, err)
		}
		elapsed := time.Since(start)
		s.requests.WithLabelValues(name, http.StatusText(sw.status)).Inc()
		s.duration.WithLabelValues(name).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.Logger.Log(r.Context(), level, "request", "method", r.Method, "route", rt.Pattern, "path", r.URL.Path,
			"status", sw.status, "duration_ms", float64(elapsed.Microseconds())/1000, "request_id", requestID(r.Context()),
			"key", principalOf(r.Context()).Actor())
	})
}

// sourceOf is the client's address, without the port.
func sourceOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// throttle takes one request from the key's allowance and returns how
// long to wait when there is none (zero: go on). The allowance is a token
// bucket per key on this instance.
func (s *Server) throttle(keyID string) time.Duration {
	if s.RateLimit <= 0 {
		return 0
	}
	s.keyMu.Lock()
	lim := s.limiters[keyID]
	if lim == nil {
		if len(s.limiters) > 10000 {
			clear(s.limiters)
		}
		lim = rate.NewLimiter(rate.Limit(s.RateLimit), max(s.RateBurst, 1))
		s.limiters[keyID] = lim
	}
	s.keyMu.Unlock()
	now := time.Now()
	res := lim.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return wait
	}
	return 0
}

// authenticate checks the bearer key, trusting a checked key for KeyTTL.
func (s *Server) authenticate(r *http.Request) (kopilka.Principal, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return kopilka.Principal{}, kopilka.Errorf(kopilka.EUNAUTHORIZED, "send the API key or session token as Authorization: Bearer <secret>")
	}
	hash := kopilka.HashKey(secret)
	now := time.Now()
	s.keyMu.Lock()
	c, hit := s.keys[hash]
	s.keyMu.Unlock()
	if hit && now.Before(c.until) {
		s.touch(c.key, now)
		return c.key, nil
	}
	k, err := s.App.Access.Authenticate(r.Context(), secret)
	if err != nil {
		return kopilka.Principal{}, err
	}
	s.keyMu.Lock()
	if len(s.keys) > 10000 {
		clear(s.keys)
	}
	s.keys[hash] = cachedKey{key: k, until: now.Add(s.KeyTTL)}
	s.keyMu.Unlock()
	s.touch(k, now)
	return k, nil
}

// touch records a key's use at most once a minute, off the request's path.
func (s *Server) touch(p kopilka.Principal, now time.Time) {
	if p.Kind != "key" {
		return
	}
	id := p.ID
	s.keyMu.Lock()
	last := s.touched[id]
	due := now.Sub(last) > time.Minute
	if due {
		s.touched[id] = now
	}
	s.keyMu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.App.Access.TouchKey(ctx, id); err != nil {
				s.Logger.Warn("record key use", "err", err)
			}
		}()
	}
}

// forgetPrincipals drops this instance's cache of checked keys and sessions.
func (s *Server) forgetPrincipals() {
	s.keyMu.Lock()
	clear(s.keys)
	s.keyMu.Unlock()
}
