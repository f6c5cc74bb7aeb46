package web_test

import (
	"github.com/chromedp/chromedp"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/surveys"
)

// A member who bought gets an NPS question, answers it in the app (in
// Russian) and earns the survey's bonus once; the question is then gone.
func TestApp_AMemberAnswersASurveyAndEarnsItsBonus(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79161234567"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "shop", Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Coalition.PutStore(ctx, kopilka.Store{ID: "s1", PartnerID: "shop", Name: "S1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Purchases.Confirm(ctx, kopilka.Receipt{ReceiptID: "r1", StoreID: "s1", MemberID: m.ID,
		Lines: []kopilka.Line{{Line: 1, SKU: "x", Quantity: 1000, Price: 10000, Amount: 10000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Surveys.PutSurvey(ctx, surveys.Survey{ID: "nps", Kind: "nps", After: "purchase", BonusPoints: 25, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.svc.Surveys.Invite(ctx); err != nil || n != 1 {
		t.Fatalf("invite %d %v", n, err)
	}
	before, _ := s.svc.Ledger.Balance(ctx, m.ID)

	b := newBrowser(t, s.url)
	b.open("/lang/ru?next=/app/surveys")
	b.waitPath(`^/app/signin`)
	b.fill("#contact", "+79161234567")
	b.click("form button[type=submit]", `^/app/signin`)
	b.fill("#code", s.sent.code("+79161234567"))
	b.click("form button[type=submit]", `^/app/$`)
	b.click(`nav a[href="/app/surveys"]`, `^/app/surveys$`)
	b.contains("main", "Насколько вероятно, что вы порекомендуете нас другу?")
	b.screenshot("app-survey")
	b.click(`input[name=score0][value="9"]`, `^/app/surveys`)
	b.fill("main textarea", "Хорошо")
	b.click("main form button[type=submit]", `^/app/surveys\?done=25`)
	b.contains("#survey-thanks", "Спасибо за ответ", "25")
	b.contains("#no-surveys", "Сейчас вопросов нет")
	after, _ := s.svc.Ledger.Balance(ctx, m.ID)
	if after.Available-before.Available != 25 {
		t.Fatalf("balance %d → %d, want 25 more", before.Available, after.Available)
	}
	r, err := s.svc.Surveys.Results(ctx, "nps", s.svc.Env.Time().AddDate(0, 0, -1), s.svc.Env.Time().AddDate(0, 0, 1), "")
	if err != nil || r.Total.Answered != 1 || r.Total.NPS == nil || *r.Total.NPS != 100 || r.Total.Passives != 0 || r.Total.Promoters != 1 {
		t.Fatalf("results %+v %v", r.Total, err)
	}
	if !strings.Contains(b.text("nav"), "Опросы") {
		t.Error("no surveys in the member app's menu")
	}

	// Marketing reads the result in the back office and adds a CSI survey.
	addOperator(t, s, "mila@example.com", kopilka.RoleMarketing, "")
	o := newBrowser(t, s.url)
	o.open("/office/surveys")
	o.signIn("mila@example.com")
	o.waitPath(`^/office/surveys`)
	o.contains("#sv-nps", "nps")
	o.contains("main", "NPS", "100", "s1")
	o.fill("#sv-id", "service")
	o.runSelect("#sv-kind", "csi")
	o.runSelect("#sv-after", "case")
	o.fill("#sv-attrs", "speed, courtesy")
	o.click("#survey-save", `^/office/surveys\?done=1`)
	o.contains("#sv-service", "service", "csi")
	o.contains("main", "speed, courtesy")
	o.screenshot("office-surveys")
	// A CSI survey with no attributes is refused, naming the field.
	o.fill("#sv-id", "bad")
	o.runSelect("#sv-kind", "csi")
	o.fill("#sv-attrs", "")
	o.run(chromedp.Click(chromedp.CSS("#survey-save")))
	o.waitText("main", "attributes")
}
