// Package web serves Kopilka's pages from the same binary as the API: the
// back office under /office/ (operators, the service centre, marketing and
// partners' managers) and the member app under /app/. Pages are
// html/template files and a little CSS and JavaScript embedded with
// go:embed; QR codes and barcodes are drawn on the server. Every page calls
// the same use cases as the API with the signed-in person as the principal,
// so a page can show or change nothing that its user's role cannot through
// the API, and every change is audited the same way. docs/web.md explains
// the choices.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/web/i18n"
)

// Site serves the pages. Build it with New.
type Site struct {
	App    *app.App
	Logger *slog.Logger
	// StatusOf gives the HTTP status of a use case's error (the API's own
	// mapping), and RequestID the request's id; the audit entry of a change
	// made from a page records both, as the API's do.
	StatusOf  func(error) int
	RequestID func(context.Context) string
	// Timeout bounds the work of one page, as the API's Timeout does.
	Timeout time.Duration
	// TileURL is the address pattern of map tiles
	// (https://tile.openstreetmap.org/{z}/{x}/{y}.png); "" draws no map.
	// Set it before serving: the Content-Security-Policy allows its host.
	TileURL string
	// Forget, when set, drops what this instance trusts of keys and
	// sessions, after a page revokes a key or changes an operator (the
	// API's server sets it to its own cache's).
	Forget func()

	mux     *http.ServeMux
	pages   map[string]*template.Template
	assets  map[string]asset
	version string // the assets' hash, in their addresses
}

// New builds the site over the services.
func New(a *app.App, logger *slog.Logger, statusOf func(error) int, requestID func(context.Context) string) *Site {
	s := &Site{App: a, Logger: logger, StatusOf: statusOf, RequestID: requestID, Timeout: 20 * time.Second, mux: http.NewServeMux()}
	s.loadAssets()
	s.loadTemplates()
	cop := http.NewCrossOriginProtection()
	for _, p := range s.Pages() {
		s.mux.Handle(p.Method+" "+p.Pattern, cop.Handler(s.wrap(p)))
	}
	return s
}

// ServeHTTP serves the pages and their assets.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header(), tileOrigin(s.TileURL))
	s.mux.ServeHTTP(w, r)
}

// secureHeaders are on every answer of the site: no script, style, image or
// form from anywhere but the server itself (images also from the map
// tiles' origin, when there is one), no framing, no sniffing, and no cache
// (pages hold personal data; assets override it).
func secureHeaders(h http.Header, tiles string) {
	img := "'self' data:"
	if tiles != "" {
		img += " " + tiles
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src "+img+"; "+
		"connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// Which session a page takes.
const (
	Office = "office" // an operator's, from /office/signin
	Member = "member" // a member's, from /app/signin
	Public = ""       // none: sign-in pages and assets
)

// Session cookies. __Host- cookies are Secure, for the whole site and this
// host only; browsers keep Secure cookies sent over plain HTTP from
// localhost, and elsewhere the site is meant to be behind TLS.
const (
	officeCookie = "__Host-kopilka-office"
	memberCookie = "__Host-kopilka-member"
	langCookie   = "kopilka-lang"
)

// Page is one page or form action of the site.
type Page struct {
	Method, Pattern string
	// Session is the session the page needs (Office, Member or Public).
	Session string
	// Action is the use case the page is for; a signed-in person whose role
	// may not take it gets "forbidden" before anything is read. The use
	// cases the page calls ask the policy themselves.
	Action access.Action
	// MaxBody is the most bytes a form may send (default 64 KB).
	MaxBody int64
	handle  func(w http.ResponseWriter, r *http.Request) error
}

// request is what a handler knows of the request beyond net/http's.
type request struct {
	lang    i18n.Lang
	who     kopilka.Principal
	session string         // the session token ("" on a public page)
	csrf    string         // the token forms must carry
	loc     *time.Location // the programme's time zone
}

type requestKey struct{}

func reqOf(r *http.Request) *request {
	if q, ok := r.Context().Value(requestKey{}).(*request); ok {
		return q
	}
	return &request{lang: i18n.EN}
}

// wrap adds what every page gets: the time limit, the language, the
// session and its principal, the CSRF token on changes, the call an audit
// entry records, and a log line.
func (s *Site) wrap(p Page) http.Handler {
	name := p.Method + " " + p.Pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), s.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		limit := int64(64 << 10)
		if p.MaxBody > 0 {
			limit = p.MaxBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		q := &request{lang: langOf(r)}
		if eng, err := s.App.Programme.Engine(ctx); err == nil {
			q.loc = eng.Loc
		}
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, q))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		err := func() error {
			if !kopilka.CleanText(r.URL.Path) || !kopilka.CleanText(r.URL.RawQuery) {
				return kopilka.Errorf(kopilka.ENOTFOUND, "no such page")
			}
			if p.Session != Public {
				cookie := officeCookie
				if p.Session == Member {
					cookie = memberCookie
				}
				c, err := r.Cookie(cookie)
				if err != nil || c.Value == "" {
					return errSignIn
				}
				who, err := s.App.Access.Authenticate(r.Context(), c.Value)
				want := "operator"
				if p.Session == Member {
					want = "member"
				}
				if err != nil || who.Kind != want {
					clearCookie(sw, cookie)
					return errSignIn
				}
				q.who, q.session, q.csrf = who, c.Value, csrfToken(c.Value)
				r = r.WithContext(kopilka.NewContextWithPrincipal(r.Context(), who))
			}
			if r.Method == http.MethodPost {
				if err := r.ParseForm(); err != nil {
					var mb *http.MaxBytesError
					if errors.As(err, &mb) {
						return err
					}
					return kopilka.Invalid("form", "is not a form this site sent")
				}
				for k, vs := range r.PostForm {
					for _, v := range append(vs, k) {
						if !kopilka.CleanText(strings.NewReplacer("\r", "", "\n", "", "\t", "").Replace(v)) {
							return kopilka.Invalid(k, "must be text without control characters")
						}
					}
				}
				if q.session != "" && r.PostForm.Get("csrf") != q.csrf {
					return kopilka.Errorf(kopilka.EFORBIDDEN, "the form is out of date: open the page again")
				}
				body, _ := json.Marshal(formRecord(r.PostForm))
				r = r.WithContext(kopilka.NewContextWithCall(r.Context(), &kopilka.Call{Route: name,
					Path: strings.ToValidUTF8(r.URL.RequestURI(), "\uFFFD"), RequestID: s.RequestID(r.Context()),
					Source: sourceOf(r), Status: http.StatusSeeOther, StatusOf: s.StatusOf, Request: body}))
			}
			if p.Action != "" && p.Session != Public {
				if err := access.Allow(r.Context(), p.Action); err != nil {
					return err
				}
			}
			return p.handle(sw, r)
		}()
		if err != nil {
			s.fail(sw, r, p, err)
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.Logger.Log(r.Context(), level, "page", "method", r.Method, "route", p.Pattern, "path", r.URL.Path,
			"status", sw.status, "duration_ms", float64(time.Since(start).Microseconds())/1000,
			"request_id", s.RequestID(r.Context()), "who", q.who.Actor())
	})
}

// formRecord is a form as the audit log records it: the CSRF token and
// any password or code left out.
func formRecord(f url.Values) map[string]any {
	m := map[string]any{}
	for k, vs := range f {
		switch k {
		case "csrf", "password", "code":
			continue
		}
		if len(vs) == 1 {
			m[k] = vs[0]
		} else {
			m[k] = vs
		}
	}
	return m
}

// errSignIn sends the person to the sign-in page.
var errSignIn = errors.New("sign in")

// fail answers an error: to the sign-in page when there is no session,
// else a page saying what went wrong, with the API's status.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, p Page, err error) {
	if errors.Is(err, errSignIn) {
		to := "/office/signin"
		if p.Session == Member {
			to = "/app/signin"
		}
		if r.Method == http.MethodGet {
			to += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	status := s.StatusOf(err)
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		status = http.StatusRequestEntityTooLarge
	}
	q := reqOf(r)
	var msg string
	var fields []kopilka.FieldError
	var e *kopilka.Error
	if errors.As(err, &e) {
		msg, fields = e.Message, e.Fields
	}
	if status >= 500 {
		s.Logger.ErrorContext(r.Context(), "page failed", "err", err, "path", r.URL.Path, "request_id", s.RequestID(r.Context()))
		msg = q.T("Something went wrong on the server. Try again; if it keeps happening, tell the administrator the request id:") + " " + s.RequestID(r.Context())
	}
	title := map[int]string{403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Please check the form", 423: "Locked", 429: "Too many attempts", 503: "Try again later"}[status]
	if title == "" {
		title = "Something went wrong"
	}
	app := Office
	if p.Session == Member || strings.HasPrefix(p.Pattern, "/app/") {
		app = Member
	}
	back := ""
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.RequestURI() != r.URL.RequestURI() {
		back = localPath(ref.RequestURI(), "")
	}
	s.render(w, r, status, "error", app, q.T(title), map[string]any{"Message": msg, "Fields": fields, "Status": status, "Back": back})
}

// langOf is the language the person chose (the cookie), else their browser's.
func langOf(r *http.Request) i18n.Lang {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "ru" || c.Value == "en") {
		return i18n.Lang(c.Value)
	}
	return i18n.Parse(r.Header.Get("Accept-Language"))
}

// csrfToken is the token a session's forms carry: a hash of the session's
// secret, which another site can neither read (the cookie is HttpOnly) nor
// compute, and which every instance computes alike.
func csrfToken(session string) string {
	h := sha256.Sum256([]byte("kopilka-csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

func setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", Expires: expires, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// localPath is next if it is a path of this site, else fallback: a sign-in
// never sends anyone elsewhere.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') ||
		strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 || !kopilka.CleanText(next) {
		return fallback
	}
	return next
}

// sourceOf is the client's address, without the port.
func sourceOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// view is what every template gets.
type view struct {
	*request
	App   string // Office or Member
	Title string
	Path  string
	Data  any
	// Assets is the assets' version, for their addresses.
	Assets string
	Menu   []menuItem
	// Narrow is a page of one small form (sign-in).
	Narrow bool
}

type menuItem struct {
	Href, Label string
	Current     bool
}

// render writes the page name in the app's layout.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name, app, title string, data any) {
	t := s.pages[name]
	if t == nil {
		panic("web: no template " + name)
	}
	q := reqOf(r)
	v := view{request: q, App: app, Title: title, Path: r.URL.RequestURI(), Data: data, Assets: s.version,
		Narrow: strings.Contains(name, "signin") || name == "app-code"}
	if app == Office && q.who.Kind == "operator" {
		v.Menu = s.officeMenu(r)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		s.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// loadTemplates parses every page with the layouts.
func (s *Site) loadTemplates() {
	s.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t := template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
		s.pages[base] = t
	}
}

var funcs = template.FuncMap{
	"join": strings.Join,
	// path escapes an id for a segment of a page's address: an id may hold
	// "/", "?" or "..", which must not make a link or a form go elsewhere.
	"path": url.PathEscape,
	// actor is the name in an actor ("operator:<id> (anna@example.com)" → anna@example.com).
	"actor": func(a string) string {
		if i := strings.LastIndex(a, " ("); i > 0 && strings.HasSuffix(a, ")") {
			return a[i+2 : len(a)-1]
		}
		return a
	},
	"add": func(a, b int64) int64 { return a + b },
	// round is a float's nearest whole number (money per member).
	"round": func(v float64) int64 { return int64(math.Round(v)) },
	// heat is a cohort cell's class by its percentage.
	"heat": heat,
	"n64":  func(i int) int64 { return int64(i) },
	"div":  func(a, b int64) int64 { return a / b },
	// deref is the number a pointer holds, for coordinates.
	"deref": func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"neg": func(a int64) bool { return a < 0 },
	"pct": func(part, whole int64) int64 {
		if whole <= 0 {
			return 0
		}
		return min(100, max(0, part*100/whole))
	},
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict takes pairs")
		}
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m, nil
	},
}
