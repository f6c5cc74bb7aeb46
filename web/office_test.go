package web_test

import (
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
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
	b.click("form button[type=submit]", `^/office/(\?|$|members)`)
}

// An operator of the service centre signs in, finds a member by phone,
// blocks the card the member lost and replaces it, and sees both in the
// member's page and in the audit log.
func TestOffice_SupportFindsMemberBlocksAndReplacesCard(t *testing.T) {
	s := newSite(t, "sqlite")
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
	b.contains("h1", "Back office")

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

	// Both changes are in the audit log as the operator's, from the pages.
	entries, _, err := s.svc.Access.Audit(ctx, kopilka.AuditFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.ActorKind == "operator" && e.Status == 303 {
			seen[e.Action] = true
			if strings.Contains(string(e.Request), "csrf") || strings.Contains(string(e.Request), "correct horse") {
				t.Errorf("the audit entry keeps a secret: %s", e.Request)
			}
		}
	}
	for _, a := range []string{"POST /office/cards/block", "POST /office/cards/replace"} {
		if !seen[a] {
			t.Errorf("no audit entry %q by the operator: %v", a, seen)
		}
	}

	// Support may not cancel a purchase, and the page offers no such button;
	// signing out ends the session.
	b.click(`header form[action="/office/signout"] button`, `^/office/signin`)
	b.open("/office/members/" + m.ID)
	b.waitPath(`^/office/signin\?next=`)
}
