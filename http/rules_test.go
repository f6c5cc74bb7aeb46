package http_test

import (
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/programme"
)

const programmeYAML = `
currency_name: bonus
point_value: 100
earn_rate_percent: "5"
max_spend_percent: "30"
pending_days: 0
expiry_months: 12
rounding: down
expiring_soon_days: 30
time_zone: Europe/Moscow
rules:
  - id: coffee-10
    kind: percent
    percent: "10"
    categories: [coffee]
    group: base
  - id: big-basket
    kind: threshold
    threshold: 500000
    points: 500
tiers:
  basis: spend
  window: rolling
  months: 12
  levels:
    - {name: silver, threshold: 100000}
    - {name: gold, threshold: 500000, earn_multiplier: "2"}
campaigns:
  - id: winter
    enabled: true
    starts_at: "2026-01-01T00:00"
    ends_at: "2027-01-01T00:00"
    segment: '"student" in member.tags'
    budget: 10000
    rules:
      - {id: winter-x3, kind: multiplier, factor: "3", categories: [tea]}
bonuses:
  welcome: {points: 50}
  birthday: {points: 300, days_before: 3, days_after: 3}
`

func TestProgramme_ImportExportRoundTripsAsYAMLAndJSON(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			var p kopilka.Programme
			a.do(t, "PUT", "/v1/programme/import", adminKey, programmeYAML, "Content-Type", "application/yaml").ok(t, 200, &p)
			if len(p.Rules) != 2 || len(p.Tiers.Levels) != 2 || p.Campaigns[0].Rules[0].Factor != 3000 || p.Bonuses.Welcome.Points != 50 {
				t.Fatalf("imported %+v", p)
			}
			y := a.do(t, "GET", "/v1/programme/export?format=yaml", adminKey, nil)
			if y.status != 200 || !strings.HasPrefix(y.header.Get("Content-Type"), "application/yaml") || !strings.Contains(string(y.body), "winter-x3") {
				t.Fatalf("export: %d %s %s", y.status, y.header.Get("Content-Type"), y.body)
			}
			if strings.Contains(string(y.body), "updated_at") {
				t.Error("the export carries updated_at: two exports of one programme would differ")
			}
			// The export imports back to the same programme, and exports the same again.
			a.do(t, "PUT", "/v1/programme/import", adminKey, string(y.body), "Content-Type", "application/yaml").ok(t, 200, nil)
			if again := a.do(t, "GET", "/v1/programme/export?format=yaml", adminKey, nil); string(again.body) != string(y.body) {
				t.Fatalf("export after re-import differs:\n%s\n---\n%s", y.body, again.body)
			}
			j := a.do(t, "GET", "/v1/programme/export", adminKey, nil)
			a.do(t, "PUT", "/v1/programme/import", adminKey, string(j.body)).ok(t, 200, nil)
			if again := a.do(t, "GET", "/v1/programme/export?format=yaml", adminKey, nil); string(again.body) != string(y.body) {
				t.Fatal("a JSON round trip changed the programme")
			}
			// A till may not read or change the programme.
			a.do(t, "GET", "/v1/programme/export", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
		})
	}
}

func TestProgramme_BadRulesAreRefusedWithTheFieldAndChangeNothing(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "PUT", "/v1/programme/import", adminKey, programmeYAML, "Content-Type", "application/yaml").ok(t, 200, nil)
	before := a.do(t, "GET", "/v1/programme/export?format=yaml", adminKey, nil).body
	for _, tc := range []struct {
		name, body, ctype, field string
		code                     kopilka.Code
	}{
		{"condition that does not type-check", strings.Replace(programmeYAML, `categories: [coffee]`, "condition: 'line.amount > \"x\"'", 1), "application/yaml", "rules[0].condition", kopilka.EINVALID},
		{"unknown field", strings.Replace(programmeYAML, "points: 500", "points: 500\n    pionts: 5", 1), "application/yaml", "pionts", kopilka.EINVALID},
		{"not YAML", "rules: [\n", "application/yaml", "body", kopilka.EMALFORMED},
		{"bad time zone", strings.Replace(programmeYAML, "Europe/Moscow", "Mars/Olympus", 1), "application/yaml", "time_zone", kopilka.EINVALID},
		{"campaign ends before it starts", strings.Replace(programmeYAML, `"2027-01-01T00:00"`, `"2025-01-01T00:00"`, 1), "application/yaml", "campaigns[0].ends_at", kopilka.EINVALID},
		{"tier thresholds fall", strings.Replace(programmeYAML, "threshold: 500000, earn", "threshold: 500, earn", 1), "application/yaml", "tiers.levels[1].threshold", kopilka.EINVALID},
		{"rule for an unknown tier", strings.Replace(programmeYAML, "group: base", "group: base\n    tiers: [platinum]", 1), "application/yaml", "rules[0].tiers[0]", kopilka.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := 400
			if tc.code == kopilka.EINVALID {
				status = 422
			}
			a.do(t, "PUT", "/v1/programme/import", adminKey, tc.body, "Content-Type", tc.ctype).problem(t, status, tc.code, tc.field)
		})
	}
	if after := a.do(t, "GET", "/v1/programme/export?format=yaml", adminKey, nil).body; string(after) != string(before) {
		t.Fatal("a refused import changed the programme")
	}
	// dry_run checks without storing.
	a.do(t, "PUT", "/v1/programme/import?dry_run=true", adminKey, strings.Replace(programmeYAML, "points: 500", "points: 700", 1), "Content-Type", "application/yaml").ok(t, 200, nil)
	if after := a.do(t, "GET", "/v1/programme/export?format=yaml", adminKey, nil).body; string(after) != string(before) {
		t.Fatal("a dry run changed the programme")
	}
}

func TestRules_ManagedOneByOneAndExplainedInTheQuote(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"pending_days": 0}).ok(t, 200, nil)
			a.do(t, "PUT", "/v1/programme/rules/tea-x2", adminKey,
				map[string]any{"kind": "multiplier", "factor": "2", "categories": []string{"tea"}}).ok(t, 200, nil)
			a.do(t, "PUT", "/v1/programme/rules/tea-x2", adminKey,
				map[string]any{"id": "other", "kind": "multiplier", "factor": "2"}).problem(t, 422, kopilka.EINVALID, "id")
			a.do(t, "PUT", "/v1/programme/rules/bad", adminKey,
				map[string]any{"kind": "percent", "percent": "5", "condition": "member.nope"}).problem(t, 422, kopilka.EINVALID, "rules[1].condition")
			var list struct{ Rules []kopilka.Rule }
			a.do(t, "GET", "/v1/programme/rules", adminKey, nil).ok(t, 200, &list)
			if len(list.Rules) != 1 || list.Rules[0].ID != "tea-x2" {
				t.Fatalf("rules %+v", list.Rules)
			}
			var m kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79160001111"}).ok(t, 201, &m)
			receipt := map[string]any{"receipt_id": "t1", "store_id": "s1", "member_id": m.ID, "channel": "app", "lines": []map[string]any{
				{"line": 1, "sku": "green", "category": "tea", "quantity": "1", "price": 40000, "amount": 40000},
				{"line": 2, "sku": "bun", "category": "bakery", "quantity": "1", "price": 10000, "amount": 10000}}}
			var q kopilka.Quote
			a.do(t, "POST", "/v1/purchases/calculate", posKey, receipt).ok(t, 200, &q)
			if q.Earned != 45 || len(q.Lines[0].Rules) != 2 || q.Lines[0].Rules[1] != (kopilka.RulePoints{Rule: "tea-x2", Points: 20}) {
				t.Fatalf("quote %+v", q)
			}
			a.do(t, "DELETE", "/v1/programme/rules/tea-x2", adminKey, nil).ok(t, 204, nil)
			a.do(t, "DELETE", "/v1/programme/rules/tea-x2", adminKey, nil).problem(t, 404, kopilka.ENOTFOUND, "")
			a.do(t, "POST", "/v1/purchases/calculate", posKey, receipt).ok(t, 200, &q)
			if q.Earned != 25 {
				t.Fatalf("after delete earned %d", q.Earned)
			}
			// A larger spend than allowed is cut with up_to, with the reasons.
			receipt["spend_points"], receipt["spend_mode"] = 500, "up_to"
			a.do(t, "POST", "/v1/members/"+m.ID+"/adjustments", adminKey, map[string]any{"points": 1000, "reason": "gift"}).ok(t, 201, nil)
			a.do(t, "POST", "/v1/purchases/calculate", posKey, receipt).ok(t, 200, &q)
			if q.Spent != 150 || !q.SpendLimit.Cut || len(q.SpendLimit.Reasons) == 0 {
				t.Fatalf("up_to: %+v", q.SpendLimit)
			}
		})
	}
}

func TestCampaign_SimulateTierAndCategoriesRoutes(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "PUT", "/v1/programme/import", adminKey, programmeYAML+`
personal_categories: {offered: [tea, coffee], picks: 1, percent: "3", change_every: month}
`, "Content-Type", "application/yaml").ok(t, 200, nil)
	var m kopilka.Member
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79160002222", "tags": []string{"student"}}).ok(t, 201, &m)
	if len(m.Tags) != 1 {
		t.Fatalf("member %+v", m)
	}
	line := []map[string]any{{"line": 1, "sku": "green", "category": "tea", "quantity": "1", "price": 150000, "amount": 150000}}
	var q kopilka.Quote
	a.do(t, "POST", "/v1/purchases", posKey, map[string]any{"receipt_id": "p1", "store_id": "s1", "member_id": m.ID, "lines": line}).ok(t, 200, &q)
	// 5 % base = 75, winter x3 for students adds 150.
	if q.Earned != 225 {
		t.Fatalf("earned %d: %+v", q.Earned, q.Lines)
	}
	var tp kopilka.TierProgress
	a.do(t, "GET", "/v1/members/"+m.ID+"/tier", adminKey, nil).ok(t, 200, &tp)
	if tp.Tier != "silver" || tp.Next != "gold" || tp.Needed != 350000 {
		t.Fatalf("tier %+v", tp)
	}
	var sim programme.Simulation
	a.do(t, "POST", "/v1/programme/campaigns/winter/simulate?days=30", adminKey, nil).ok(t, 200, &sim)
	if sim.Receipts != 1 || sim.ExtraPoints != 0 {
		t.Fatalf("an enabled campaign simulated as a change: %+v", sim)
	}
	// 1 point per 10.00 of tea: 150, and the winter x3 adds twice that.
	var simRule programme.Simulation
	a.do(t, "POST", "/v1/programme/simulate", adminKey, map[string]any{"days": 30,
		"rule": map[string]any{"id": "tea-5", "kind": "per_amount", "points": 1, "per": 1000, "categories": []string{"tea"}}}).ok(t, 200, &simRule)
	if simRule.ExtraPoints != 450 || simRule.ExtraCost != 45000 || simRule.MembersAffected != 1 || len(simRule.Rules) != 3 || simRule.Rules[1].Rule != "tea-5" || simRule.Rules[1].Points != 150 {
		t.Fatalf("simulate a rule: %+v", simRule)
	}
	a.do(t, "POST", "/v1/programme/simulate", adminKey, map[string]any{"days": 0}).problem(t, 422, kopilka.EINVALID, "days")
	a.do(t, "POST", "/v1/programme/campaigns/nope/simulate", adminKey, nil).problem(t, 404, kopilka.ENOTFOUND, "")
	a.do(t, "PUT", "/v1/members/"+m.ID+"/categories", adminKey, map[string]any{"categories": []string{"tea"}}).ok(t, 200, &m)
	a.do(t, "PUT", "/v1/members/"+m.ID+"/categories", adminKey, map[string]any{"categories": []string{"coffee"}}).problem(t, 409, kopilka.ECONFLICT, "categories")
	a.do(t, "PUT", "/v1/members/"+m.ID+"/categories", adminKey, map[string]any{"categories": []string{"wine"}}).problem(t, 422, kopilka.EINVALID, "categories[0]")
}
