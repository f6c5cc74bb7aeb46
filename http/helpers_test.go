package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/storage/storagetest"
)

// Secrets of the two keys every test API has.
const (
	adminKey = "kpk_test_admin_secret"
	posKey   = "kpk_test_till_secret"
)

// dialects lists every database the API tests run on; newAPI skips
// PostgreSQL when KOPILKA_TEST_DATABASE_URL is not set.
func dialects(t *testing.T) []string {
	t.Helper()
	return []string{"sqlite", "postgres"}
}

// api is a running server on a fresh, migrated database of one dialect.
type api struct {
	url    string
	client *http.Client
	svc    *app.App
	sent   *outbox
}

// outbox is a sender of one-time codes that keeps what it was given.
type outbox struct {
	mu   sync.Mutex
	sent []sentCode
	// flush delivers the messages the outbox table holds now.
	flush func()
}

type sentCode struct{ channel, to, text string }

func (o *outbox) Send(ctx context.Context, channel, to, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, sentCode{channel, to, text})
	return nil
}

// code delivers what is due, then returns the code last sent to the
// address, or "".
func (o *outbox) code(to string) string {
	if o.flush != nil {
		o.flush()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.sent) - 1; i >= 0; i-- {
		if o.sent[i].to == to {
			return codeIn.FindString(o.sent[i].text)
		}
	}
	return ""
}

var codeIn = regexp.MustCompile(`\b[0-9]{6}\b`)

// newAPI starts the HTTP API on an empty database of the dialect, with an
// admin key (adminKey) and a till key (posKey).
func newAPI(t *testing.T, dialect string) *api {
	t.Helper()
	ctx := sysCtx()
	db := storagetest.Open(t, dialect) // PostgreSQL: a schema of the test's own, or a skip
	svc := app.New(db)
	box := &outbox{flush: func() { _, _ = svc.Notify.Flush(ctx) }}
	svc.SetSender(box)
	// The tests ask for many codes from one address within a minute; the
	// limits on that have tests of their own (TestCodes_…).
	svc.Access.CodesPerSource, svc.Access.CodesPerSecond = 1e6, 1e6
	for _, k := range []struct{ name, role, secret string }{
		{"test admin", kopilka.RoleAdmin, adminKey},
		{"test till", kopilka.RolePOS, posKey},
	} {
		if _, err := svc.Access.CreateKey(ctx, kopilka.APIKey{Name: k.name, Role: k.role}, k.secret); err != nil {
			t.Fatalf("create %s key: %v", k.role, err)
		}
	}
	if _, err := svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "main", Name: "Main"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"store-1", "s1"} {
		if _, err := svc.Coalition.PutStore(ctx, kopilka.Store{ID: s, PartnerID: "main", Name: s}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(khttp.NewServer(svc, slog.New(slog.DiscardHandler), "test"))
	t.Cleanup(srv.Close)
	return &api{url: srv.URL, client: srv.Client(), svc: svc, sent: box}
}

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the key (none when empty) and reads the reply.
// A string or []byte body is sent as it is; anything else as JSON; nil as
// no body. headers are name, value pairs.
func (a *api) do(t *testing.T, method, path, key string, body any, headers ...string) reply {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatalf("encode body: %v", err)
		}
	}
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read reply: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: out}
}

// ok fails the test unless the reply has the status, and decodes its JSON body into v (if not nil).
func (r reply) ok(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// problem is the part of a problem document the tests read.
type problem struct {
	Status   int                  `json:"status"`
	Code     kopilka.Code         `json:"code"`
	Detail   string               `json:"detail"`
	Errors   []kopilka.FieldError `json:"errors"`
	MaxSpend *int64               `json:"max_spend"`
}

// problem checks that the reply is a problem+json of the status and code
// that names field among its errors (or names no field when field is empty).
func (r reply) problem(t *testing.T, status int, code kopilka.Code, field string) problem {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Errorf("not a problem document: %v", err)
		return p
	}
	if p.Status != r.status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.status)
	}
	if p.Code != code {
		t.Errorf("code %q, want %q; body: %s", p.Code, code, r.body)
	}
	fields := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		fields[i] = e.Field
	}
	switch {
	case field == "" && len(fields) > 0:
		t.Errorf("errors name fields %q, want none", fields)
	case field != "" && !slices.Contains(fields, field):
		t.Errorf("errors name fields %q, want %q among them; body: %s", fields, field, r.body)
	}
	return p
}

// sysCtx is the context of a test that calls the use cases directly, as
// the command line does.
func sysCtx() context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("test"))
}

// operator adds an operator with the role and returns a session token of theirs.
func (a *api) operator(t *testing.T, email, role string) string {
	t.Helper()
	a.do(t, "POST", "/v1/operators", adminKey, map[string]any{"email": email, "name": email, "role": role, "password": "correct horse battery"}).ok(t, 201, nil)
	var s struct{ Token string }
	a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": "correct horse battery"}).ok(t, 200, &s)
	return s.Token
}

// readMember reads a member as admin.
func (a *api) readMember(t *testing.T, id string) kopilka.Member {
	t.Helper()
	var m kopilka.Member
	a.do(t, "GET", "/v1/members/"+id, adminKey, nil).ok(t, 200, &m)
	return m
}
