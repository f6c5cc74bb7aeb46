package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/storage/storagetest"
)

func ptr[T any](v T) *T { return &v }

// addOperator adds an operator with the role (and partner) and returns its e-mail.
func addOperator(t *testing.T, s *site, email, role, partner string) string {
	t.Helper()
	in := access.OperatorInput{Email: ptr(email), Name: ptr(strings.Split(email, "@")[0]), Role: ptr(role), Password: ptr("correct horse battery")}
	if partner != "" {
		in.PartnerID = ptr(partner)
	}
	if _, err := s.svc.Access.CreateOperator(sysCtx(), in); err != nil {
		t.Fatal(err)
	}
	return email
}

// signIn signs the operator in through the sign-in page, from wherever
// the browser was sent.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.waitPath(`^/office/signin`)
	b.fill("#email", email)
	b.fill("#password", "correct horse battery")
	b.run(chromedp.Click(chromedp.CSS("form button[type=submit]")))
	deadline := time.Now().Add(15 * time.Second)
	for strings.HasPrefix(b.path(), "/office/signin") {
		if time.Now().After(deadline) {
			b.t.Fatalf("still on the sign-in page: %s", b.text("main"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.waitPath(`^/office/`)
}

// An operator of the service centre signs in, finds a member by phone,
// blocks the card the member lost and replaces it, and sees both in the
// member's page and in the audit log.
func TestOffice_SupportFindsMemberBlocksAndReplacesCard(t *testing.T) {
	// On both databases: the pages' changes go through the same use cases
	// and storage as the API's.
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) { supportJourney(t, d) })
	}
}

func supportJourney(t *testing.T, dialect string) {
	s := newSite(t, dialect)
	ctx := sysCtx()
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79161234567", Name: "Иван Петров"})
	if err != nil {
		t.Fatal(err)
	}
	card := m.Cards[0].Number
	if _, err := s.svc.Ledger.Adjust(ctx, m.ID, kopilka.Adjustment{Points: 1500, Reason: "welcome"}, "seed-1"); err != nil {
		t.Fatal(err)
	}
	addOperator(t, s, "vera@example.com", kopilka.RoleSupport, "")

	b := newBrowser(t, s.url)
	b.open("/office/")
	b.screenshot("office-signin")
	// A wrong password says so and keeps the address typed.
	b.fill("#email", "vera@example.com")
	b.fill("#password", "not the password")
	b.click("form button[type=submit]", `^/office/signin`)
	b.contains("#signin-error", "wrong")
	b.signIn("vera@example.com")
	b.contains("h1", "Overview")
	if b.has("#overview") {
		t.Error("support sees the programme's figures")
	}

	b.fill("#q", "+7 916 123-45-67")
	b.click("form[role=search] button", `^/office/members/`+m.ID)
	b.contains("#balance-available", "1,500 points")
	// Support sees the card's last four digits only.
	if body := b.text("main"); strings.Contains(body, card) || !strings.Contains(body, card[len(card)-4:]) {
		t.Fatalf("support's member page shows the card as %q", body)
	}
	b.screenshot("office-member")

	// Block: support types the number the member reads out.
	b.fill(`form[action="/office/cards/replace"] input[name=number]`, card)
	b.click(`form[action="/office/cards/replace"] button[formaction="/office/cards/block"]`, `done=card-blocked`)
	b.contains("main .done", "The card is blocked.")
	if n := b.asked.Load(); n != 1 {
		t.Errorf("blocking the card asked %d times, want once", n)
	}
	if c, err := s.svc.Members.Card(ctx, card); err != nil || c.Status != kopilka.StatusBlocked {
		t.Fatalf("card after blocking: %+v %v", c, err)
	}
	b.fill(`form[action="/office/cards/replace"] input[name=number]`, card)
	b.click(`form[action="/office/cards/replace"] button.secondary`, `done=replaced`)
	got, err := s.svc.Members.Member(ctx, m.ID)
	if err != nil || len(got.Cards) != 2 {
		t.Fatalf("member after the replacement: %+v %v", got, err)
	}
	var fresh string
	for _, c := range got.Cards {
		if c.Number != card {
			fresh = c.Number
		}
	}
	b.contains("section[aria-labelledby=cards]", "replaced", fresh[len(fresh)-4:])
	b.screenshot("office-member-replaced")

	// The member calls about it: a case, a compensation from it (sent
	// twice, as a double click would: given once), then resolved.
	b.run(chromedp.Click(chromedp.CSS("#open-case summary")))
	b.fill("#case-subject", "Lost the card, asks for goodwill")
	b.fill("#case-note", "Card lost on the metro")
	b.click(`form[action="/office/cases"] button[type=submit]`, `^/office/cases/[^/]+\?done=opened`)
	b.contains("#case-status", "open")
	casePage := b.location()
	b.fill("#comp-points", "200")
	b.fill("#comp-reason", "Sorry for the trouble")
	key, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`input[name=key]`)))
	if err != nil || key == "" {
		t.Fatalf("the compensation form has no idempotency key: %q %v", key, err)
	}
	b.click(`form[action$="/compensations"] button`, `done=compensated`)
	b.contains("#case-compensated", "200 points")
	b.contains("#case-log", "compensation", "Sorry for the trouble")
	b.screenshot("office-case")
	// The same form sent again (a resubmission after a timeout carries the
	// same key): no second compensation.
	b.run(chromedp.Navigate(casePage))
	b.run(chromedp.SetValue(chromedp.CSS(`input[name=key]`), key))
	b.fill("#comp-points", "200")
	b.fill("#comp-reason", "Sorry for the trouble")
	b.click(`form[action$="/compensations"] button`, `done=compensated`)
	b.contains("#case-compensated", "200 points")
	b.fill("#resolution", "New card issued, 200 points given")
	b.click(`form[action$="/resolve"] button`, `done=resolved`)
	b.contains("#case-status", "resolved")

	// The member's page shows the case and the compensation in the history.
	b.open("/office/members/" + m.ID)
	b.contains("section[aria-labelledby=cases]", "Lost the card", "resolved")
	b.contains("section[aria-labelledby=history]", "Sorry for the trouble", "200")
	b.contains("#balance-available", "1,700 points")
	b.screenshot("office-member-after-case")

	// Support has no audit log: the menu has no such item and the page is refused.
	if b.has(`header a[href="/office/audit"]`) {
		t.Error("support's menu offers the audit log")
	}
	b.open("/office/audit")
	b.contains("h1", "Not allowed")
	// Signing out ends the session.
	b.click(`header form[action="/office/signout"] button`, `^/office/signin`)
	b.open("/office/members/" + m.ID)
	b.waitPath(`^/office/signin\?next=`)

	// An administrator finds the operator's changes in the audit log, from the pages.
	addOperator(t, s, "anna@example.com", kopilka.RoleAdmin, "")
	b.signIn("anna@example.com")
	b.open("/office/")
	b.contains("#ov-members", "1")
	b.contains("#ov-outstanding", "1,700")
	b.screenshot("office-overview")
	b.click(`header a[href="/office/audit"]`, `^/office/audit`)
	b.contains("#audit-log", "POST /office/cards/block", "POST /office/cards/replace", "POST /office/cases/{id}/compensations",
		"POST /office/cases", "vera@example.com")
	b.screenshot("office-audit")
	b.fill(`input[name=action]`, "POST /office/cases/{id}/compensations")
	b.click(`form[action="/office/audit"] button`, `action=`)
	if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#audit-log tbody tr").length`)); n != 2 {
		t.Errorf("the audit log holds %d compensations from the page, want 2 (the first and its replay)", n)
	}
	entries, _, err := s.svc.Access.Audit(ctx, kopilka.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(string(e.Request), "csrf") || strings.Contains(string(e.Request), "correct horse") {
			t.Errorf("the audit entry keeps a secret: %s", e.Request)
		}
	}
	if bal, err := s.svc.Ledger.Balance(ctx, m.ID); err != nil || bal.Available != 1700 {
		t.Fatalf("balance after one compensation of 200: %+v %v", bal, err)
	}
}
