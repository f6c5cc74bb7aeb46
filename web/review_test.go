package web_test

import (
	"html"
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
