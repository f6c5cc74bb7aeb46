package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/storage/storagetest"
)

type failingSender struct{}

func (failingSender) Send(ctx context.Context, channel, to, text string) error {
	return errors.New("gateway down")
}

type session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	MemberID  string    `json:"member_id"`
}

func TestOperators_LoginRolesAndLockOut(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			var op kopilka.Operator
			a.do(t, "POST", "/v1/operators", adminKey, map[string]any{"email": "Help@Example.com", "name": "Vera", "role": "support",
				"password": "short"}).problem(t, 422, kopilka.EINVALID, "password")
			r := a.do(t, "POST", "/v1/operators", adminKey, map[string]any{"email": "Help@Example.com", "name": "Vera", "role": "support",
				"password": "correct horse battery"})
			r.ok(t, 201, &op)
			if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "password") {
				t.Fatalf("the answer shows the password or its hash: %s", r.body)
			}
			a.do(t, "POST", "/v1/operators", adminKey, map[string]any{"email": "help@example.com", "name": "Twin", "role": "support",
				"password": "correct horse battery"}).problem(t, 409, kopilka.ECONFLICT, "email")
			stored, err := a.svc.Access.Operator(sysCtx(), op.ID)
			if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
				t.Fatalf("stored hash %q, %v", stored.PasswordHash, err)
			}

			login := func(password string) reply {
				return a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "help@example.com", "password": password})
			}
			var s session
			login("correct horse battery").ok(t, 200, &s)
			if !strings.HasPrefix(s.Token, access.OperatorTokenPrefix) {
				t.Fatalf("token %q", s.Token)
			}
			var who map[string]any
			a.do(t, "GET", "/v1/auth/whoami", s.Token, nil).ok(t, 200, &who)
			if who["kind"] != "operator" || who["role"] != "support" || who["id"] != op.ID {
				t.Fatalf("whoami %v", who)
			}
			// Support: members yes, the programme no, adjustments up to the limit.
			var m kopilka.Member
			a.do(t, "POST", "/v1/members", s.Token, map[string]any{"phone": "+79161110000"}).problem(t, 403, kopilka.EFORBIDDEN, "")
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79161110000"}).ok(t, 201, &m)
			// Support may not change where a member's codes go, nor issue a card it could spend with.
			a.do(t, "PATCH", "/v1/members/"+m.ID, s.Token, map[string]any{"phone": "+79160000666"}).problem(t, 403, kopilka.EFORBIDDEN, "")
			a.do(t, "POST", "/v1/members/"+m.ID+"/cards", s.Token, map[string]any{"number": "2000000000000666"}).problem(t, 403, kopilka.EFORBIDDEN, "")
			a.do(t, "PATCH", "/v1/programme", s.Token, map[string]any{"pending_days": 0}).problem(t, 403, kopilka.EFORBIDDEN, "")
			a.do(t, "POST", "/v1/members/"+m.ID+"/adjustments", s.Token, map[string]any{"points": 1000, "reason": "goodwill"}).ok(t, 201, nil)
			a.do(t, "POST", "/v1/members/"+m.ID+"/adjustments", s.Token, map[string]any{"points": -1001, "reason": "too much"}).
				problem(t, 403, kopilka.EFORBIDDEN, "points")
			var tx struct {
				Items []kopilka.Transaction `json:"items"`
			}
			a.do(t, "GET", "/v1/members/"+m.ID+"/transactions", s.Token, nil).ok(t, 200, &tx)
			if len(tx.Items) != 1 || !strings.HasPrefix(tx.Items[0].Actor, "operator:"+op.ID) {
				t.Fatalf("the adjustment's actor: %+v", tx.Items)
			}

			// Five wrong passwords lock the account; then even the right one is refused.
			for i := range access.MaxFailedLogins {
				login("wrong password "+strconv.Itoa(i)).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			}
			r = login("correct horse battery")
			r.problem(t, 423, kopilka.ELOCKED, "")
			if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 800 || secs > 900 {
				t.Errorf("Retry-After %q, want about 900 s", r.header.Get("Retry-After"))
			}
			// An unknown e-mail answers like a wrong password.
			a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "nobody@example.com", "password": "x"}).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			// An admin unlocks; the lock also ends by itself after LockOut.
			a.do(t, "POST", "/v1/operators/"+op.ID+"/unlock", adminKey, nil).ok(t, 200, nil)
			login("correct horse battery").ok(t, 200, &s)
			for i := range access.MaxFailedLogins {
				login("wrong again "+strconv.Itoa(i)).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			}
			login("correct horse battery").problem(t, 423, kopilka.ELOCKED, "")
			a.svc.Env.SetNow(func() time.Time { return time.Now().Add(access.LockOut + time.Second) })
			login("correct horse battery").ok(t, 200, &s)
			a.svc.Env.SetNow(time.Now)

			// Logging out ends the session; disabling the operator ends the others.
			var other session
			login("correct horse battery").ok(t, 200, &other)
			a.do(t, "POST", "/v1/auth/logout", s.Token, nil).ok(t, 204, nil)
			a.do(t, "GET", "/v1/auth/whoami", s.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			a.do(t, "PATCH", "/v1/operators/"+op.ID, adminKey, map[string]any{"status": "disabled"}).ok(t, 200, nil)
			a.do(t, "GET", "/v1/auth/whoami", other.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			login("correct horse battery").problem(t, 401, kopilka.EUNAUTHORIZED, "")
			// Enabled again: old sessions stay ended; a new login works.
			a.do(t, "PATCH", "/v1/operators/"+op.ID, adminKey, map[string]any{"status": "active"}).ok(t, 200, nil)
			a.do(t, "GET", "/v1/auth/whoami", other.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			login("correct horse battery").ok(t, 200, &s)
		})
	}
}

func TestMembers_LoginByOneTimeCode(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			var m, other kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79162220000", "email": "ivan@example.com"}).ok(t, 201, &m)
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79162220001"}).ok(t, 201, &other)
			a.do(t, "POST", "/v1/members/"+m.ID+"/adjustments", adminKey, map[string]any{"points": 300, "reason": "welcome"}).ok(t, 201, nil)
			clock := time.Now()
			a.svc.Env.SetNow(func() time.Time { return clock })
			defer func() { a.svc.Env.SetNow(time.Now) }()

			// Asking for a code answers the same for a member and for nobody.
			var yes, no map[string]any
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "8 916 222-00-00"}).ok(t, 202, &yes)
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79169999999"}).ok(t, 202, &no)
			a.sent.flush()
			if len(a.sent.sent) != 1 || a.sent.sent[0].to != "+79162220000" || a.sent.sent[0].channel != "sms" || jsonString(t, yes) != jsonString(t, no) {
				t.Fatalf("sent %+v; answers %v and %v", a.sent.sent, yes, no)
			}
			code := a.sent.code("+79162220000")
			// A second code within a minute waits, for a member and for nobody alike.
			r := a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79162220000"})
			r.problem(t, 429, kopilka.ERATELIMIT, "")
			if r.header.Get("Retry-After") != "60" {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79169999999"}).problem(t, 429, kopilka.ERATELIMIT, "")

			verify := func(code string) reply {
				return a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": "+79162220000", "code": code})
			}
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for range access.OTPAttempts {
				verify(wrong).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			}
			verify(code).problem(t, 401, kopilka.EUNAUTHORIZED, "") // five wrong: the code is void

			clock = clock.Add(access.OTPResendAfter)
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79162220000"}).ok(t, 202, nil)
			code = a.sent.code("+79162220000")
			var s session
			verify(code).ok(t, 200, &s)
			verify(code).problem(t, 401, kopilka.EUNAUTHORIZED, "") // used once
			if s.MemberID != m.ID || !strings.HasPrefix(s.Token, access.MemberTokenPrefix) {
				t.Fatalf("session %+v", s)
			}
			// The member's own balance, history and cards; nothing else.
			var me kopilka.Member
			a.do(t, "GET", "/v1/me", s.Token, nil).ok(t, 200, &me)
			var bal kopilka.BalanceView
			a.do(t, "GET", "/v1/me/balance", s.Token, nil).ok(t, 200, &bal)
			var hist struct {
				Items []kopilka.Transaction `json:"items"`
			}
			a.do(t, "GET", "/v1/me/transactions", s.Token, nil).ok(t, 200, &hist)
			if me.ID != m.ID || len(me.Cards) != 1 || bal.Available != 300 || len(hist.Items) != 1 {
				t.Fatalf("me %+v balance %+v history %+v", me, bal, hist)
			}
			for _, p := range []string{"/v1/members/" + other.ID, "/v1/members/" + m.ID + "/balance", "/v1/members?phone=%2B79162220001",
				"/v1/cards/" + other.Cards[0].Number, "/v1/programme", "/v1/partners"} {
				a.do(t, "GET", p, s.Token, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
			}
			a.do(t, "POST", "/v1/members/"+m.ID+"/adjustments", s.Token, map[string]any{"points": 1000, "reason": "me"}).problem(t, 403, kopilka.EFORBIDDEN, "")
			a.do(t, "GET", "/v1/stores/nearby?lat=55.75&lon=37.62", s.Token, nil).ok(t, 200, nil)

			// A code by e-mail, then the code expires after five minutes.
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"email": "Ivan@Example.com"}).ok(t, 202, nil)
			mailed := a.sent.code("ivan@example.com")
			clock = clock.Add(access.OTPLifetime)
			a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"email": "ivan@example.com", "code": mailed}).problem(t, 401, kopilka.EUNAUTHORIZED, "")

			// A sender that fails is answered as if it had sent: the caller
			// cannot tell. The code waits in the outbox and goes out once the
			// gateway takes it again.
			a.svc.SetSender(failingSender{})
			clock = clock.Add(access.OTPResendAfter)
			var failed map[string]any
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79162220000"}).ok(t, 202, &failed)
			if jsonString(t, failed) != jsonString(t, yes) {
				t.Errorf("answer when sending failed %v, when it worked %v", failed, yes)
			}
			if n, err := a.svc.Notify.Flush(t.Context()); n != 0 || err != nil {
				t.Fatalf("a failing sender took %d messages, %v", n, err)
			}
			a.svc.SetSender(a.sent)
			clock = clock.Add(time.Second) // the first retry waits a second
			retried := a.sent.code("+79162220000")
			if retried == "" || retried == mailed {
				t.Fatalf("the code refused by the gateway was not sent again: %q", retried)
			}
			a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": "+79162220000", "code": retried}).ok(t, 200, nil)

			// A blocked member's session stops working, and stays stopped when unblocked.
			a.do(t, "POST", "/v1/members/"+m.ID+"/block", adminKey, nil).ok(t, 200, nil)
			a.do(t, "GET", "/v1/me", s.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			a.do(t, "POST", "/v1/members/"+m.ID+"/unblock", adminKey, nil).ok(t, 200, nil)
			a.do(t, "GET", "/v1/me", s.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79162220000", "code": "123456"}).problem(t, 422, kopilka.EINVALID, "code")
		})
	}
}

// TestMembers_CodesAreLimitedPerDay guesses five wrong codes on each of
// three codes: the fifteenth wrong guess shuts the address for a day, even
// to the right code of a fourth.
func TestMembers_CodesAreLimitedPerDay(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79164440000"}).ok(t, 201, nil)
	clock := time.Now()
	a.svc.Env.SetNow(func() time.Time { return clock })
	defer func() { a.svc.Env.SetNow(time.Now) }()
	ask := func() string {
		clock = clock.Add(access.OTPResendAfter)
		a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79164440000"}).ok(t, 202, nil)
		return a.sent.code("+79164440000")
	}
	verify := func(code string) reply {
		return a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": "+79164440000", "code": code})
	}
	for range access.OTPDailyFailures / access.OTPAttempts {
		code := ask()
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range access.OTPAttempts {
			verify(wrong).problem(t, 401, kopilka.EUNAUTHORIZED, "")
		}
	}
	sent := len(a.sent.sent)
	a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79164440000"}) // within the minute: 429
	clock = clock.Add(access.OTPResendAfter)
	a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79164440000"}).ok(t, 202, nil)
	if len(a.sent.sent) != sent {
		t.Fatalf("a code was sent to an address shut for the day")
	}
	verify(a.sent.code("+79164440000")).problem(t, 401, kopilka.EUNAUTHORIZED, "") // the last code sent, now refused
	clock = clock.Add(24 * time.Hour)
	var s session
	verify(ask()).ok(t, 200, &s)
}

// TestKeys_ScopedToStores limits a till's key to one store of its partner:
// the partner's other store is as unknown to it as another partner's.
func TestKeys_ScopedToStores(t *testing.T) {
	a := newAPI(t, "sqlite")
	var k kopilka.APIKey
	a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "till of store-1", "role": "pos", "partner_id": "main",
		"store_ids": []string{"store-1"}}).ok(t, 201, &k)
	a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "bad", "role": "pos", "store_ids": []string{"store-1"}}).
		problem(t, 422, kopilka.EINVALID, "store_ids")
	a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "bad", "role": "pos", "partner_id": "main", "store_ids": []string{"nowhere"}}).
		problem(t, 422, kopilka.EINVALID, "store_ids[0]")
	var m kopilka.Member
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79165550000"}).ok(t, 201, &m)
	receipt := func(id, store string) map[string]any {
		return map[string]any{"receipt_id": id, "store_id": store, "member_id": m.ID,
			"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 10000, "amount": 10000}}}
	}
	a.do(t, "POST", "/v1/purchases", k.Secret, receipt("k-1", "store-1")).ok(t, 200, nil)
	other := a.do(t, "POST", "/v1/purchases", k.Secret, receipt("k-2", "s1"))
	missing := a.do(t, "POST", "/v1/purchases", k.Secret, receipt("k-3", "nowhere"))
	other.problem(t, 404, kopilka.ENOTFOUND, "")
	missing.problem(t, 404, kopilka.ENOTFOUND, "")
	a.do(t, "POST", "/v1/purchases", adminKey, receipt("a-1", "s1")).ok(t, 200, nil)
	seen := a.do(t, "GET", "/v1/purchases/a-1", k.Secret, nil)
	unknown := a.do(t, "GET", "/v1/purchases/no-such", k.Secret, nil)
	seen.problem(t, 404, kopilka.ENOTFOUND, "")
	var p1, p2 problem
	_ = json.Unmarshal(seen.body, &p1)
	_ = json.Unmarshal(unknown.body, &p2)
	if p1.Detail != p2.Detail || p1.Detail == "" {
		t.Errorf("another store's purchase says %q, a missing one %q: they must read the same", p1.Detail, p2.Detail)
	}
	a.do(t, "POST", "/v1/purchases/a-1/cancel", k.Secret, nil).problem(t, 404, kopilka.ENOTFOUND, "")
	if q, err := a.svc.Purchases.Purchase(sysCtx(), "", "a-1"); err != nil || q.Status != kopilka.PurchaseConfirmed {
		t.Fatalf("purchase a-1 after the refused cancel: %+v %v", q, err)
	}
}

func TestAudit_WritesAreRecordedWithBeforeAndAfter(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			var m kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79163330000"}).ok(t, 201, &m)
			card := m.Cards[0].Number
			r := a.do(t, "POST", "/v1/cards/"+card+"/block", adminKey, nil, "X-Request-Id", "req-block-1")
			r.ok(t, 200, nil)
			var k kopilka.APIKey
			a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "till 9", "role": "pos", "partner_id": "main"}).ok(t, 201, &k)
			a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "ghost@example.com", "password": "guess"}).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			a.do(t, "POST", "/v1/purchases", k.Secret, map[string]any{"receipt_id": "a-1", "store_id": "store-1", "member_id": m.ID,
				"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 10000, "amount": 10000}}}).ok(t, 200, nil)
			// A refused write is on record too.
			a.do(t, "PATCH", "/v1/programme", posKey, map[string]any{"pending_days": 1}).problem(t, 403, kopilka.EFORBIDDEN, "")

			type auditPage struct {
				Items      []kopilka.AuditEntry `json:"items"`
				NextCursor string               `json:"next_cursor"`
			}
			var page auditPage
			read := func(query string) { // a fresh page each time: decoding into a used one keeps old fields
				page = auditPage{}
				a.do(t, "GET", "/v1/audit?"+query, adminKey, nil).ok(t, 200, &page)
			}
			read("target=" + card)
			if len(page.Items) != 1 {
				t.Fatalf("entries for the card: %+v", page.Items)
			}
			e := page.Items[0]
			var before, after kopilka.Card
			_ = json.Unmarshal(e.Before, &before)
			_ = json.Unmarshal(e.After, &after)
			if e.Action != "POST /v1/cards/{number}/block" || e.Status != 200 || e.RequestID != "req-block-1" || e.Source != "127.0.0.1" ||
				e.ActorKind != "key" || e.Role != "admin" || before.Status != "active" || after.Status != "blocked" || e.At.IsZero() {
				t.Fatalf("entry %+v (before %s, after %s)", e, e.Before, e.After)
			}
			read("action=" + url.QueryEscape("POST /v1/keys"))
			if len(page.Items) != 1 || strings.Contains(string(page.Items[0].After), k.Secret) || !strings.Contains(string(page.Items[0].After), "(removed)") {
				t.Fatalf("key creation entry keeps the secret: %+v", page.Items)
			}
			read("action=" + url.QueryEscape("POST /v1/auth/login"))
			if len(page.Items) != 1 || page.Items[0].ActorKind != "anonymous" || page.Items[0].Actor != "" || page.Items[0].Target != "ghost@example.com" || page.Items[0].Status != 401 ||
				strings.Contains(string(page.Items[0].Request), "guess") {
				t.Fatalf("login entry %+v", page.Items)
			}
			read("partner_id=main")
			if len(page.Items) != 1 || page.Items[0].Action != "POST /v1/purchases" || page.Items[0].ActorID != k.ID {
				t.Fatalf("partner entries %+v", page.Items)
			}
			read("action=" + url.QueryEscape("PATCH /v1/programme"))
			if len(page.Items) != 1 || page.Items[0].Status != 403 || page.Items[0].Role != "pos" {
				t.Fatalf("refused write %+v", page.Items)
			}
			// Paging, newest first.
			read("limit=2")
			first := page.Items
			if len(first) != 2 || page.NextCursor == "" || first[0].At.Before(first[1].At) {
				t.Fatalf("first page %+v", page)
			}
			read("limit=2&cursor=" + page.NextCursor)
			if len(page.Items) == 0 || page.Items[0].ID == first[1].ID || page.Items[0].At.After(first[1].At) {
				t.Fatalf("second page %+v", page.Items)
			}
			// The log has no route that writes it.
			for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				r := a.do(t, method, "/v1/audit", adminKey, map[string]any{})
				if r.status != 405 {
					t.Errorf("%s /v1/audit: %d, want 405", method, r.status)
				}
				r = a.do(t, method, "/v1/audit/"+e.ID, adminKey, map[string]any{})
				if r.status != 404 && r.status != 405 {
					t.Errorf("%s /v1/audit/{id}: %d, want 404 or 405", method, r.status)
				}
			}
			a.do(t, "GET", "/v1/audit", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
		})
	}
}

// A receipt id is unique within its partner over HTTP too: two partners'
// tills both confirm "0001"; neither's answer tells the other's ids; an
// operator reading "0001" names the partner with ?partner_id=.
func TestReceipts_EachPartnerHasItsOwnIDs(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PUT", "/v1/partners/other", adminKey, map[string]any{"name": "Other"}).ok(t, 200, nil)
			a.do(t, "PUT", "/v1/stores/o1", adminKey, map[string]any{"partner_id": "other", "name": "O1"}).ok(t, 200, nil)
			keys := map[string]string{}
			for _, p := range []string{"main", "other"} {
				var k kopilka.APIKey
				a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "till " + p, "role": "pos", "partner_id": p}).ok(t, 201, &k)
				keys[p] = k.Secret
			}
			m := a.createMember(t, map[string]any{"phone": "+79165550099"})
			receipt := func(store string, amount int64) map[string]any {
				return map[string]any{"receipt_id": "0001", "store_id": store, "member_id": m.ID,
					"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": amount, "amount": amount}}}
			}
			var qa, qb kopilka.Quote
			a.do(t, "POST", "/v1/purchases", keys["main"], receipt("s1", 100_00)).ok(t, 200, &qa)
			a.do(t, "POST", "/v1/purchases", keys["other"], receipt("o1", 300_00)).ok(t, 200, &qb)
			if qa.Earned != 5 || qb.Earned != 15 {
				t.Fatalf("earned %d and %d, want 5 and 15", qa.Earned, qb.Earned)
			}
			var got kopilka.Quote
			a.do(t, "GET", "/v1/purchases/0001", keys["other"], nil).ok(t, 200, &got)
			if got.PartnerID != "other" || got.Earned != 15 {
				t.Fatalf("the other partner's till reads %+v", got)
			}
			a.do(t, "GET", "/v1/purchases/0001?partner_id=main", keys["other"], nil).problem(t, 404, kopilka.ENOTFOUND, "")
			a.do(t, "GET", "/v1/purchases/0001", adminKey, nil).problem(t, 422, kopilka.EINVALID, "partner_id")
			a.do(t, "POST", "/v1/purchases/0001/cancel", adminKey, nil).problem(t, 422, kopilka.EINVALID, "partner_id")
			a.do(t, "POST", "/v1/purchases/0001/cancel?partner_id=other", adminKey, nil).ok(t, 200, nil)
			a.do(t, "GET", "/v1/purchases/0001", keys["main"], nil).ok(t, 200, &got)
			if got.Status != kopilka.PurchaseConfirmed || got.PartnerID != "main" {
				t.Fatalf("main's 0001 after other's was cancelled: %+v", got)
			}
		})
	}
}

// A partner's manager is an operator of role partner-admin with the
// partner's id: signed in, they reach that partner's stores, receipts and
// statements only, and another partner's read as missing.
func TestOperators_PartnerManagerSeesOnlyTheirPartner(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PUT", "/v1/partners/other", adminKey, map[string]any{"name": "Other"}).ok(t, 200, nil)
			a.do(t, "PUT", "/v1/stores/o1", adminKey, map[string]any{"partner_id": "other", "name": "O1"}).ok(t, 200, nil)
			op := func(body map[string]any) reply { return a.do(t, "POST", "/v1/operators", adminKey, body) }
			base := func(kv ...any) map[string]any {
				m := map[string]any{"email": "boss@main.example", "name": "Boss", "password": "correct horse battery"}
				for i := 0; i < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			op(base("role", "partner-admin")).problem(t, 422, kopilka.EINVALID, "partner_id")
			op(base("role", "support", "partner_id", "main")).problem(t, 422, kopilka.EINVALID, "partner_id")
			op(base("role", "partner-admin", "partner_id", "nobody")).problem(t, 422, kopilka.EINVALID, "partner_id")
			var o kopilka.Operator
			op(base("role", "partner-admin", "partner_id", "main")).ok(t, 201, &o)
			if o.PartnerID != "main" {
				t.Fatalf("operator %+v", o)
			}
			var s session
			a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "boss@main.example", "password": "correct horse battery"}).ok(t, 200, &s)
			var who map[string]any
			a.do(t, "GET", "/v1/auth/whoami", s.Token, nil).ok(t, 200, &who)
			if who["partner_id"] != "main" || who["role"] != "partner-admin" {
				t.Fatalf("whoami %v", who)
			}
			a.do(t, "GET", "/v1/partners/main", s.Token, nil).ok(t, 200, nil)
			a.do(t, "GET", "/v1/partners/other", s.Token, nil).problem(t, 404, kopilka.ENOTFOUND, "")
			a.do(t, "GET", "/v1/stores/o1", s.Token, nil).problem(t, 404, kopilka.ENOTFOUND, "")
			a.do(t, "GET", "/v1/partners/other/statement?from=2026-01-01&to=2026-02-01", s.Token, nil).problem(t, 404, kopilka.ENOTFOUND, "")
			var stores struct {
				Items []kopilka.Store `json:"items"`
			}
			a.do(t, "GET", "/v1/stores", s.Token, nil).ok(t, 200, &stores)
			if len(stores.Items) != 2 {
				t.Fatalf("a manager of main lists %d stores, want main's 2: %+v", len(stores.Items), stores.Items)
			}
			for _, st := range stores.Items {
				if st.PartnerID != "main" {
					t.Fatalf("a manager of main lists %+v", st)
				}
			}
			// A move to another role or partner ends their sessions.
			a.do(t, "PATCH", "/v1/operators/"+o.ID, adminKey, map[string]any{"partner_id": "other"}).ok(t, 200, nil)
			a.do(t, "GET", "/v1/auth/whoami", s.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			a.do(t, "PATCH", "/v1/operators/"+o.ID, adminKey, map[string]any{"role": "support"}).problem(t, 422, kopilka.EINVALID, "role")
			id := o.ID
			o = kopilka.Operator{}
			a.do(t, "PATCH", "/v1/operators/"+id, adminKey, map[string]any{"role": "support", "partner_id": ""}).ok(t, 200, &o)
			if o.PartnerID != "" || o.Role != "support" {
				t.Fatalf("operator %+v", o)
			}
		})
	}
}
