package web_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
)

// signedIn is a cookie-keeping client signed in to the back office.
func signedIn(t *testing.T, s *site, email string) *http.Client {
	t.Helper()
	c := client(t)
	r := post(t, c, s.url+"/office/signin", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d", email, r.StatusCode)
	}
	return c
}

// The review's finds, each kept from coming back.
func TestReview_IdsInAddressesRedirectsCasesAndForms(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	addOperator(t, s, "anna@example.com", kopilka.RoleAdmin, "")
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79160000011"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"pa", "pb"} {
		if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: p, Name: p}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Coalition.PutStore(ctx, kopilka.Store{ID: p + "-1", PartnerID: p, Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	// A store whose id is a path to another action: its page's form and
	// links must stay on the store.
	evil := "../members/" + m.ID + "/block?x="
	if _, err := s.svc.Coalition.PutStore(ctx, kopilka.Store{ID: evil, PartnerID: "pa", Name: "Evil"}); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, s, "anna@example.com")
	_, page := get(t, c, s.url+"/office/stores/"+url.PathEscape(evil))
	action := regexp.MustCompile(`action="(/office/stores/[^"]*)"`).FindStringSubmatch(page)
	tok := csrfIn.FindStringSubmatch(page)
	if action == nil || tok == nil || strings.Contains(action[1], "/members/") && !strings.Contains(action[1], "%2F") {
		t.Fatalf("the store's form goes to %v", action)
	}
	post(t, c, s.url+strings.ReplaceAll(action[1], "&amp;", "&"), url.Values{"csrf": {tok[1]}, "name": {"Evil"}, "status": {"open"}})
	if got, _ := s.svc.Members.Member(ctx, m.ID); got.Status != kopilka.StatusActive {
		t.Fatalf("saving a store blocked member %s", m.ID)
	}
	_, page = get(t, c, s.url+"/office/partners/pa")
	if strings.Contains(page, `href="/office/stores/../`) {
		t.Fatal("a store's link leaves the store's page")
	}

	// next never leaves the site, a tab or a backslash included.
	for _, next := range []string{"/\t/evil.example/", "/\\evil.example", "//evil.example", "https://evil.example", "/\x00x"} {
		r, _ := get(t, c, s.url+"/lang/ru?next="+url.QueryEscape(next))
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("next %q sends to %q", next, loc)
		}
	}

	// A case about partner pb's receipt is filed against pb's, not pa's of the same id.
	one, _ := kopilka.ParseQuantity("1")
	for _, p := range []string{"pa", "pb"} {
		if _, err := s.svc.Purchases.Confirm(ctx, kopilka.Receipt{ReceiptID: "r-1", StoreID: p + "-1", MemberID: m.ID,
			Lines: []kopilka.Line{{Line: 1, SKU: "x", Quantity: one, Price: 100, Amount: 100}}}); err != nil {
			t.Fatal(err)
		}
	}
	_, page = get(t, c, s.url+"/office/receipts/r-1?partner_id=pb")
	link := regexp.MustCompile(`href="(/office/members/[^"]*#open-case)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatal("no link to open a case from the receipt")
	}
	_, page = get(t, c, s.url+strings.ReplaceAll(link[1], "&amp;", "&"))
	tok = csrfIn.FindStringSubmatch(page)
	partner := regexp.MustCompile(`name="partner_id" value="([^"]*)"`).FindStringSubmatch(page)
	if partner == nil || partner[1] != "pb" {
		t.Fatalf("the case form does not carry the receipt's partner: %v", partner)
	}
	r := post(t, c, s.url+"/office/cases", url.Values{"csrf": {tok[1]}, "member_id": {m.ID}, "kind": {"dispute"}, "channel": {"phone"},
		"subject": {"points"}, "receipt_id": {"r-1"}, "partner_id": {"pb"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("open the case: %d", r.StatusCode)
	}
	id := strings.TrimPrefix(strings.Split(r.Header.Get("Location"), "?")[0], "/office/cases/")
	if cs, err := s.svc.Cases.Case(ctx, id); err != nil || cs.PartnerID != "pb" {
		t.Fatalf("the case is about %q's receipt (%v), want pb's", cs.PartnerID, err)
	}

	// A form past the limit is 413, not "not a form of this site".
	r = post(t, c, s.url+"/office/cases/"+id+"/notes", url.Values{"csrf": {tok[1]}, "text": {strings.Repeat("x", 70<<10)}})
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized form: %d", r.StatusCode)
	}

	// An API key in the member app's cookie is no member's session.
	k, err := s.svc.Access.CreateKey(ctx, kopilka.APIKey{Name: "k", Role: kopilka.RoleAdmin}, "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.url+"/app/", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-kopilka-member", Value: k.Secret})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/app/signin") {
		t.Fatalf("an API key as the member cookie: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// The member's page shows the history a hundred entries at a time, with
// a link to the older ones; a partner's manager adds no store to another
// partner.
func TestPages_HistoryPagesAndStoresOfOthers(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	addOperator(t, s, "anna@example.com", kopilka.RoleAdmin, "")
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79160000012"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 130 {
		if _, err := s.svc.Ledger.Adjust(ctx, m.ID, kopilka.Adjustment{Points: int64(i + 1), Reason: "entry-" + strconv.Itoa(i+1) + "."}, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := signedIn(t, s, "anna@example.com")
	_, page := get(t, c, s.url+"/office/members/"+m.ID)
	older := regexp.MustCompile(`id="history-older"|href="([^"]*)" id="history-older"`).FindStringSubmatch(page)
	if !strings.Contains(page, "entry-130.") || strings.Contains(page, "entry-30.") || older == nil || older[1] == "" {
		t.Fatalf("the first page of history: older link %v", older)
	}
	_, page = get(t, c, s.url+html.UnescapeString(older[1]))
	if !strings.Contains(page, "entry-30.") || !strings.Contains(page, "entry-1.") || strings.Contains(page, "entry-31.") || strings.Contains(page, `id="history-older"`) {
		t.Fatalf("the second page of history is not the 30 oldest entries: %v %v %v %v (%s)", strings.Contains(page, "entry-30."), strings.Contains(page, "entry-1."), strings.Contains(page, "entry-31."), strings.Contains(page, `id="history-older"`), older[1])
	}

	for _, p := range []string{"pa", "pb"} {
		if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: p, Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	addOperator(t, s, "boss@pa.example", kopilka.RolePartnerAdmin, "pa")
	boss := signedIn(t, s, "boss@pa.example")
	_, page = get(t, boss, s.url+"/office/partners/pa")
	tok := csrfIn.FindStringSubmatch(page)
	r := post(t, boss, s.url+"/office/partners/pb/stores", url.Values{"csrf": {tok[1]}, "id": {"sneaky"}, "name": {"Sneaky"}})
	if r.StatusCode != http.StatusUnprocessableEntity { // as the API answers: partner_id must be their own
		t.Fatalf("a store for another partner: %d", r.StatusCode)
	}
	if _, err := s.svc.Coalition.Store(ctx, "sneaky"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		t.Fatalf("the other partner's store was made: %v", err)
	}
}

// The second review's finds: forms for new things never replace old ones;
// marketing's receipt tester shows no balance and tells no card from a
// blocked one; the last administrator stays; prices take no sign.
func TestReview2_NewNeverReplacesTesterIsBlindLastAdminStays(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	addOperator(t, s, "anna@example.com", kopilka.RoleAdmin, "")
	addOperator(t, s, "mila@example.com", kopilka.RoleMarketing, "")
	earn := kopilka.Percent(7 * kopilka.PercentScale)
	if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "pa", Name: "A", EarnRate: &earn}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Coalition.PutStore(ctx, kopilka.Store{ID: "pa-1", PartnerID: "pa", Name: "A1", TimeZone: "Asia/Vladivostok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Programme.PutRule(ctx, kopilka.Rule{ID: "r1", Kind: kopilka.RulePerReceipt, Points: 1}); err != nil {
		t.Fatal(err)
	}
	anna := signedIn(t, s, "anna@example.com")
	_, page := get(t, anna, s.url+"/office/partners/pa")
	tok := csrfIn.FindStringSubmatch(page)[1]
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/office/partners/pa/stores", url.Values{"id": {"pa-1"}, "name": {"Overwritten"}}},
		{"/office/partners", url.Values{"id": {"pa"}, "name": {"Overwritten"}, "status": {"active"}}},
		{"/office/programme/rules/new", url.Values{"new": {"1"}, "id": {"r1"}, "kind": {"per_receipt"}, "points": {"9"}}},
		{"/office/programme/campaigns/new", url.Values{"new": {"1"}, "id": {"c1"}, "starts_at": {"2026-01-01"}, "ends_at": {"2027-01-01"}, "rules": {`[{"id": "c1-r", "kind": "per_receipt", "points": 1}]`}}},
		{"/office/programme/campaigns/new", url.Values{"new": {"1"}, "id": {"c1"}, "starts_at": {"2026-01-01"}, "ends_at": {"2028-01-01"}, "rules": {`[{"id": "c1-r", "kind": "per_receipt", "points": 1}]`}}},
	} {
		c.form.Set("csrf", tok)
		post(t, anna, s.url+c.path, c.form)
	}
	st, _ := s.svc.Coalition.Store(ctx, "pa-1")
	p, _ := s.svc.Coalition.Partner(ctx, "pa")
	prog, _ := s.svc.Programme.Programme(ctx)
	if st.Name != "A1" || st.TimeZone != "Asia/Vladivostok" || p.Name != "A" || p.EarnRate == nil || len(prog.Rules) != 1 || prog.Rules[0].Points != 1 ||
		len(prog.Campaigns) != 1 || prog.Campaigns[0].EndsAt != "2027-01-01" {
		t.Fatalf("a form for a new thing replaced an old one: store %+v partner %+v rules %+v campaigns %+v", st, p, prog.Rules, prog.Campaigns)
	}
	// A rule's form saves the rule it edits, not another.
	r := post(t, anna, s.url+"/office/programme/rules/r1", url.Values{"csrf": {tok}, "id": {"r2"}, "kind": {"per_receipt"}, "points": {"5"}})
	if prog, _ = s.svc.Programme.Programme(ctx); r.StatusCode != http.StatusUnprocessableEntity || len(prog.Rules) != 1 {
		t.Fatalf("a rule's form with another id: %d, rules %+v", r.StatusCode, prog.Rules)
	}
	// A pasted document with more after it is refused.
	r = post(t, anna, s.url+"/office/programme/import", url.Values{"csrf": {tok}, "document": {`{"programme": {}} garbage`}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an import with trailing text: %d", r.StatusCode)
	}

	// Marketing's tester: the member's 4,321 points never show, and an
	// unknown card reads like a blocked one.
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79160000013"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Ledger.Adjust(ctx, m.ID, kopilka.Adjustment{Points: 4321, Reason: "x"}, ""); err != nil {
		t.Fatal(err)
	}
	blocked, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79160000014"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Members.BlockCard(ctx, blocked.Cards[0].Number); err != nil {
		t.Fatal(err)
	}
	mila := signedIn(t, s, "mila@example.com")
	_, page = get(t, mila, s.url+"/office/programme/test")
	mtok := csrfIn.FindStringSubmatch(page)[1]
	tester := func(card, spend, lines string) string {
		resp := post(t, mila, s.url+"/office/programme/test", url.Values{"csrf": {mtok}, "run": {"1"}, "card": {card}, "store": {"pa-1"}, "spend": {spend}, "lines": {lines}})
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if page := tester(m.Cards[0].Number, "5000", "x; a; 1; 100.00"); strings.Contains(page, "4321") || strings.Contains(page, "4,321") || !strings.Contains(page, "quote-live") {
		t.Fatal("marketing's tester shows the member's balance, or no quote")
	}
	unknown, blockedPage := tester("2999999999999999", "0", "x; a; 1; 100.00"), tester(blocked.Cards[0].Number, "0", "x; a; 1; 100.00")
	msg := regexp.MustCompile(`(?s)id="tester-problems">(.*?)</div>`)
	if a, b := msg.FindStringSubmatch(unknown), msg.FindStringSubmatch(blockedPage); a == nil || b == nil || a[1] != b[1] {
		t.Fatalf("an unknown card and a blocked one read differently to marketing: %v / %v (%.1500s)", a, b, regexp.MustCompile(`(?s)<main.*</main>`).FindString(unknown))
	}
	if page := tester(m.Cards[0].Number, "0", "x; a; 1; +5.00"); !strings.Contains(page, "tester-problems") {
		t.Fatal("a price with a sign was taken")
	}

	// The last active administrator cannot demote or disable themselves.
	ops, _ := s.svc.Access.Operators(ctx)
	var annaID string
	for _, o := range ops {
		if o.Email == "anna@example.com" {
			annaID = o.ID
		}
	}
	_, page = get(t, anna, s.url+"/office/operators")
	tok = csrfIn.FindStringSubmatch(page)[1]
	r = post(t, anna, s.url+"/office/operators/"+annaID, url.Values{"csrf": {tok}, "role": {"support"}, "status": {"disabled"}, "partner_id": {"-"}})
	if o, _ := s.svc.Access.Operator(ctx, annaID); r.StatusCode != http.StatusConflict || o.Role != kopilka.RoleAdmin || o.Status != kopilka.StatusActive {
		t.Fatalf("the last admin demoted themselves: %d %+v", r.StatusCode, o)
	}
}
