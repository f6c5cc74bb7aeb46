package http_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	stdhttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/app"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/storage"
)

// A line number is stored as a 32-bit integer by both databases: one out of
// range is refused alike on both, naming the line, before anything is stored.
func TestReceipts_ALineNumberOutOfRangeIs422OnEveryDatabase(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			var m kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79163330009"}).ok(t, 201, &m)
			for _, n := range []int64{1 << 31, 1<<31 - 1, 1_000_001, 0, -1} {
				rc := map[string]any{"receipt_id": "big-line", "store_id": "store-1", "member_id": m.ID,
					"lines": []map[string]any{{"line": n, "sku": "x", "quantity": "1", "price": 100, "amount": 100}}}
				for _, path := range []string{"/v1/purchases/calculate", "/v1/purchases"} {
					a.do(t, "POST", path, posKey, rc).problem(t, 422, kopilka.EINVALID, "lines[0].line")
				}
			}
			rc := map[string]any{"receipt_id": "ok-line", "store_id": "store-1", "member_id": m.ID,
				"lines": []map[string]any{{"line": 1_000_000, "sku": "x", "quantity": "1", "price": 100, "amount": 100}}}
			a.do(t, "POST", "/v1/purchases", posKey, rc).ok(t, 200, nil)
			a.do(t, "POST", "/v1/purchases/ok-line/refunds", posKey, map[string]any{"refund_id": "r1",
				"lines": []map[string]any{{"line": 1 << 31}}}).problem(t, 422, kopilka.EINVALID, "lines[0].line")
		})
	}
}

// A month whose end cannot be written as a time is refused, not answered
// with a 200 and no body.
func TestSettlements_APeriodOutOfRangeIs422(t *testing.T) {
	a := newAPI(t, "sqlite")
	for _, period := range []string{"9999-12", "1999-12", "0000-01"} {
		a.do(t, "GET", "/v1/partners/main/settlements/"+period, adminKey, nil).problem(t, 422, kopilka.EINVALID, "period")
		a.do(t, "POST", "/v1/partners/main/settlements", adminKey, map[string]any{"period": period}).problem(t, 422, kopilka.EINVALID, "period")
	}
	a.do(t, "GET", "/v1/partners/main/settlements/2026-10", adminKey, nil).ok(t, 200, nil)
}

// Anybody may call the sign-in routes: what the log keeps of such a call is
// bounded, and what it sent never becomes the entry's actor.
func TestAudit_WhatAnAnonymousCallerSendsIsBoundedAndNeverAnActor(t *testing.T) {
	a := newAPI(t, "sqlite")
	huge := strings.Repeat("a", 900<<10)
	a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": huge + "@example.com", "password": "x"}).problem(t, 401, kopilka.EUNAUTHORIZED, "")
	a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "my secret password", "password": "x"}).problem(t, 401, kopilka.EUNAUTHORIZED, "")
	a.do(t, "POST", "/v1/auth/otp?"+strings.Repeat("q", 900<<10), "", map[string]any{"phone": "+79160000000"})
	es, _, err := a.svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Action != "POST /v1/auth/otp" || es[2].Action != "POST /v1/auth/login" {
		t.Fatalf("the last entries: %+v", es)
	}
	for _, e := range es {
		if size := len(e.Request) + len(e.Path) + len(e.Target) + len(e.Actor); size > 8<<10 {
			t.Errorf("%s keeps %d bytes of an anonymous request", e.Action, size)
		}
		if e.Actor != "" || strings.Contains(e.Target, "secret") {
			t.Errorf("%s: actor %q, target %q", e.Action, e.Actor, e.Target)
		}
	}
}

// A body sent a byte at a time past the server's read timeout is the
// client's fault: 408, not a 500.
func TestServer_ABodyTooSlowIs408(t *testing.T) {
	a := newAPI(t, "sqlite")
	srv := httptest.NewUnstartedServer(khttp.NewServer(a.svc, slog.New(slog.DiscardHandler), "test"))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"phone": "+79160000000"}`
	fmt.Fprintf(conn, "POST /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", adminKey, len(body))
	for i := range 5 {
		if _, err := conn.Write([]byte(body[i : i+1])); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := stdhttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 408 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("a slow body: %d %s, want 408", resp.StatusCode, b)
	}
}

// A till that looks a member up by a card learns what a till needs and no
// personal data; the back office sees the whole profile.
func TestMembers_ATillSeesNoPersonalData(t *testing.T) {
	a := newAPI(t, "sqlite")
	var m kopilka.Member
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79163330077", "email": "vera@example.com",
		"name": "Vera Ivanova", "birth_date": "1990-05-01", "tags": []string{"vip"}, "consents": map[string]any{"sms": true}}).ok(t, 201, &m)
	card := m.Cards[0].Number
	var extra kopilka.Card
	a.do(t, "POST", "/v1/members/"+m.ID+"/cards", adminKey, nil).ok(t, 201, &extra)
	r := a.do(t, "GET", "/v1/members?card="+card, posKey, nil)
	var seen kopilka.Member
	r.ok(t, 200, &seen)
	for _, secret := range []string{"+79163330077", "vera@example.com", "Ivanova", "1990-05-01", "vip", extra.Number, `"sms":true`} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("a till sees %q: %s", secret, r.body)
		}
	}
	if seen.ID != m.ID || seen.Name != "Vera" || len(seen.Cards) != 1 || seen.Cards[0].Number != card {
		t.Errorf("a till's view %+v", seen)
	}
	var full kopilka.Member
	a.do(t, "GET", "/v1/members?card="+card, adminKey, nil).ok(t, 200, &full)
	if full.Phone != "+79163330077" || len(full.Cards) != 2 {
		t.Errorf("the back office's view %+v", full)
	}
}

// A server with no way to send one-time codes says so, to a member and to
// a stranger alike, and writes no code anywhere.
func TestMembers_SignInByCodeWithoutASenderIsUnavailable(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79163330088"}).ok(t, 201, nil)
	a.svc.SetSender(nil)
	for _, phone := range []string{"+79163330088", "+79163330099"} {
		a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": phone}).problem(t, 503, kopilka.EUNAVAILABLE, "")
	}
	if code := a.sent.code("+79163330088"); code != "" {
		t.Fatalf("a code was sent: %s", code)
	}
}

// The support role works with the number the member tells: it sees card
// numbers masked, and a replacement it makes gets a generated number, so
// that it cannot take a member's card over; the member is told of every
// replacement by a message.
func TestCards_SupportSeesMaskedNumbersAndCannotChooseAReplacement(t *testing.T) {
	a := newAPI(t, "sqlite")
	support := "support-key-0123456789"
	if _, err := a.svc.Access.CreateKey(sysCtx(), kopilka.APIKey{Name: "support", Role: kopilka.RoleSupport}, support); err != nil {
		t.Fatal(err)
	}
	var m kopilka.Member
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79163330066"}).ok(t, 201, &m)
	card := m.Cards[0].Number
	for _, path := range []string{"/v1/members/" + m.ID, "/v1/members?phone=%2B79163330066", "/v1/cards/" + card} {
		r := a.do(t, "GET", path, support, nil)
		r.ok(t, 200, nil)
		if strings.Contains(string(r.body), card) || !strings.Contains(string(r.body), card[len(card)-4:]) {
			t.Errorf("GET %s by support: %s", path, r.body)
		}
	}
	for range 2 { // blocking, and blocking again, answers the member with its cards masked too
		r := a.do(t, "POST", "/v1/members/"+m.ID+"/block", support, nil)
		r.ok(t, 200, nil)
		if strings.Contains(string(r.body), card) || !strings.Contains(string(r.body), card[len(card)-4:]) {
			t.Errorf("POST /v1/members/{id}/block by support: %s", r.body)
		}
	}
	a.do(t, "POST", "/v1/members/"+m.ID+"/unblock", adminKey, nil).ok(t, 200, nil)
	a.do(t, "POST", "/v1/cards/"+card+"/replace", support, map[string]any{"number": "4000000000000002"}).problem(t, 403, kopilka.EFORBIDDEN, "number")
	var fresh kopilka.Card
	a.do(t, "POST", "/v1/cards/"+card+"/replace", support, nil).ok(t, 201, &fresh)
	if !strings.HasPrefix(fresh.Number, "****") {
		t.Errorf("the replacement as support sees it: %+v", fresh)
	}
	var full kopilka.Member
	a.do(t, "GET", "/v1/members/"+m.ID, adminKey, nil).ok(t, 200, &full)
	if len(full.Cards) != 2 || strings.Contains(full.Cards[0].Number+full.Cards[1].Number, "*") {
		t.Errorf("an admin sees %+v", full.Cards)
	}
	// The member is told, on the phone, by the cards' last four digits.
	a.sent.flush()
	a.sent.mu.Lock()
	defer a.sent.mu.Unlock()
	var told []sentCode
	for _, s := range a.sent.sent {
		if s.to == "+79163330066" && strings.Contains(s.text, "replaced") {
			told = append(told, s)
		}
	}
	newNumber := full.Cards[0].Number
	if newNumber == card {
		newNumber = full.Cards[1].Number
	}
	if len(told) != 1 || told[0].channel != "sms" || !strings.Contains(told[0].text, "ending "+card[len(card)-4:]) ||
		!strings.Contains(told[0].text, "ending "+newNumber[len(newNumber)-4:]) || strings.Contains(told[0].text, newNumber) {
		t.Errorf("what the member was told of the replacement: %+v", told)
	}
}

// After five failed sign-ins an address is locked whether or not it is an
// operator's: the lock-out tells nobody who is one.
func TestOperators_TheLockOutAnswersAlikeForAnyAddress(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			email, role, pw := "vera@example.com", "support", "correct horse battery staple"
			if _, err := a.svc.Access.CreateOperator(sysCtx(), access.OperatorInput{Email: &email, Role: &role, Password: &pw}); err != nil {
				t.Fatal(err)
			}
			answers := map[string]reply{}
			for _, addr := range []string{"vera@example.com", "ghost@example.com"} {
				for range 5 {
					a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": addr, "password": "wrong"}).problem(t, 401, kopilka.EUNAUTHORIZED, "")
				}
				answers[addr] = a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": addr, "password": "wrong"})
			}
			v, g := answers["vera@example.com"], answers["ghost@example.com"]
			pv, pg := v.problem(t, 423, kopilka.ELOCKED, ""), g.problem(t, 423, kopilka.ELOCKED, "")
			if pv.Detail[:len("too many failed logins")] != pg.Detail[:len("too many failed logins")] ||
				(v.header.Get("Retry-After") == "") != (g.header.Get("Retry-After") == "") {
				t.Fatalf("an operator's address: %s %v; another: %s %v", v.body, v.header, g.body, g.header)
			}
			// The right password does not open a locked account either.
			a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": pw}).problem(t, 423, kopilka.ELOCKED, "")
		})
	}
}

// A query parameter holding a NUL or bad UTF-8 is a 422 naming it, on
// PostgreSQL too (a hostile review found 500s there), whatever the route.
func TestQuery_ParametersMustBeText(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			for _, c := range []struct{ method, path, param string }{
				{"GET", "/v1/purchases/r1?partner_id=%00", "partner_id"},
				{"POST", "/v1/purchases/r1/cancel?partner_id=%ff", "partner_id"},
				{"GET", "/v1/partners/main/stores?after=%00", "after"},
				{"GET", "/v1/audit?actor_id=%00", "actor_id"},
				{"GET", "/v1/audit?target=%ff", "target"},
			} {
				a.do(t, c.method, c.path, adminKey, nil).problem(t, 422, kopilka.EINVALID, c.param)
			}
		})
	}
}

// No request works longer than the server's limit: past it the answer is
// 503 unavailable, saying so, never a 500.
func TestTimeout_ARequestPastTheLimitIs503(t *testing.T) {
	a := newAPI(t, "sqlite")
	srv := khttp.NewServer(a.svc, slog.New(slog.DiscardHandler), "test")
	srv.Timeout = time.Nanosecond
	h := httptest.NewServer(srv)
	defer h.Close()
	slow := &api{url: h.URL, client: h.Client(), svc: a.svc, sent: a.sent}
	p := slow.do(t, "GET", "/v1/programme", adminKey, nil).problem(t, 503, kopilka.EUNAVAILABLE, "")
	if !strings.Contains(p.Detail, "longer than the server allows") {
		t.Fatalf("detail %q", p.Detail)
	}
}

// One-time codes cannot be used to flood the outbox or bomb a phone (a
// hostile review queued 2,198 SMS from one address in 20 s; each member
// could get one a minute): one client address may ask for 5 codes a
// minute, everybody together 20 a second on an instance, and one phone or
// e-mail, a member's or nobody's alike, 10 a day.
func TestCodes_AreLimitedPerClientPerPhoneAndInAll(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.svc.Access.CodesPerSource, a.svc.Access.CodesPerSecond = 0, 0 // the defaults
			fresh := app.New(a.svc.DB)                                      // limits are made once per service: a fresh one
			fresh.SetSender(a.sent)
			srv := httptest.NewServer(khttp.NewServer(fresh, slog.New(slog.DiscardHandler), "test"))
			defer srv.Close()
			b := &api{url: srv.URL, client: srv.Client(), svc: fresh, sent: a.sent}
			for i := range 5 {
				b.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": fmt.Sprintf("+7916444000%d", i)}).ok(t, 202, nil)
			}
			r := b.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79164440009"})
			r.problem(t, 429, kopilka.ERATELIMIT, "")
			if r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			// One phone, ten codes a day, a minute apart (through the service: no client address).
			svc := app.New(a.svc.DB)
			svc.SetSender(a.sent)
			svc.Access.CodesPerSource, svc.Access.CodesPerSecond = 1e6, 1e6
			clock := time.Now()
			svc.Env.SetNow(func() time.Time { return clock })
			for _, phone := range []string{"+79165550001", "+79165559999"} { // a member's, then nobody's
				if phone == "+79165550001" {
					a.createMember(t, map[string]any{"phone": phone})
				}
				for i := range access.OTPDailyCodes {
					if err := svc.Access.SendCode(sysCtx(), phone, ""); err != nil {
						t.Fatalf("%s: code %d: %v", phone, i+1, err)
					}
					clock = clock.Add(access.OTPResendAfter)
				}
				if err := svc.Access.SendCode(sysCtx(), phone, ""); kopilka.ErrorCode(err) != kopilka.ERATELIMIT {
					t.Fatalf("%s: the eleventh code in a day: %v", phone, err)
				}
				clock = clock.Add(24 * time.Hour)
				if err := svc.Access.SendCode(sysCtx(), phone, ""); err != nil {
					t.Fatalf("%s: a code the next day: %v", phone, err)
				}
			}
			// Everybody together.
			all := app.New(a.svc.DB)
			all.SetSender(a.sent)
			all.Access.CodesPerSource, all.Access.CodesPerSecond = 1e6, 1
			limited := 0
			for i := range 30 {
				if kopilka.ErrorCode(all.Access.SendCode(sysCtx(), fmt.Sprintf("+7916777%04d", i), "")) == kopilka.ERATELIMIT {
					limited++
				}
			}
			if limited == 0 {
				t.Fatal("30 codes at once past a limit of 1 a second (bursts of 10) were all sent")
			}
		})
	}
}

// A wrong code for an address of nobody is counted and written as one for
// a member's, so that the time of the answer tells nothing (a hostile
// review told them apart by the write alone).
func TestCodes_AWrongCodeIsWrittenTheSameForAnybody(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.createMember(t, map[string]any{"phone": "+79165550002"})
	for _, phone := range []string{"+79165550002", "+79165559998"} {
		if err := a.svc.Access.SendCode(sysCtx(), phone, ""); err != nil {
			t.Fatal(err)
		}
		a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": phone, "code": "000000"}).problem(t, 401, kopilka.EUNAUTHORIZED, "")
		var o kopilka.OTP
		err := a.svc.DB.View(sysCtx(), func(tx *storage.Tx) (err error) { o, err = tx.OTP(sysCtx(), "phone:"+phone); return err })
		if err != nil || o.Attempts != 1 || o.Failures != 1 {
			t.Fatalf("%s after one wrong code: %+v %v", phone, o, err)
		}
	}
}

// The rows an address of nobody leaves are forgotten by the jobs once every
// window they served has ended: asking for codes does not grow the
// database for ever.
func TestCodes_StaleRowsAreForgotten(t *testing.T) {
	a := newAPI(t, "sqlite")
	clock := time.Now()
	a.svc.Env.SetNow(func() time.Time { return clock })
	defer a.svc.Env.SetNow(time.Now)
	for i, phone := range []string{"+79165550011", "+79165550012"} {
		if i > 0 {
			clock = clock.Add(49 * time.Hour)
		}
		if err := a.svc.Access.SendCode(sysCtx(), phone, ""); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := a.svc.Jobs.RunJobs(sysCtx())
	if err != nil || rep.StaleCodes != 1 {
		t.Fatalf("jobs: %+v %v; want the older row forgotten", rep, err)
	}
	err = a.svc.DB.View(sysCtx(), func(tx *storage.Tx) error {
		if _, err := tx.OTP(sysCtx(), "phone:+79165550011"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Errorf("the stale row: %v", err)
		}
		_, err := tx.OTP(sysCtx(), "phone:+79165550012")
		return err
	})
	if err != nil {
		t.Fatalf("the recent row: %v", err)
	}
}
