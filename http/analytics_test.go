package http_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/reports"
)

// TestAnalytics_RoutesAnswerJSONAndCSVAndNameTheFieldAtFault drives the
// analytics routes over two members' purchases, on both databases.
func TestAnalytics_RoutesAnswerJSONAndCSVAndNameTheFieldAtFault(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			for i, phone := range []string{"+79161112270", "+79161112271"} {
				m := a.createMember(t, map[string]any{"phone": phone})
				for j := 0; j <= i; j++ {
					a.do(t, "POST", "/v1/purchases", posKey, map[string]any{"receipt_id": phone + string(rune('a'+j)), "store_id": "store-1", "member_id": m.ID,
						"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 10000, "amount": 10000}}}).ok(t, 200, nil)
				}
			}
			var k reports.KPIs
			a.do(t, "GET", "/v1/analytics/kpis?bucket=month", adminKey, nil).ok(t, 200, &k)
			if k.Total.Purchases != 3 || k.Total.ActiveMembers != 2 || k.Total.Turnover != 30000 || k.Total.RepeatRate != 50 || len(k.Points) < 12 {
				t.Fatalf("kpis %+v", k.Total)
			}
			r := a.do(t, "GET", "/v1/analytics/kpis?format=csv&bucket=week", adminKey, nil)
			rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
			if err != nil || r.status != 200 || rows[0][0] != "start" || rows[len(rows)-1][0] != "total" || rows[len(rows)-1][5] != "3" {
				t.Fatalf("kpis csv %d %v: %s", r.status, err, r.body)
			}
			var c reports.Cohorts
			a.do(t, "GET", "/v1/analytics/cohorts", adminKey, nil).ok(t, 200, &c)
			last := c.Rows[len(c.Rows)-1]
			if last.Size != 2 || last.Percent[0] != 100 {
				t.Fatalf("cohorts %+v", c.Rows)
			}
			var rfm reports.RFM
			a.do(t, "GET", "/v1/analytics/rfm", adminKey, nil).ok(t, 200, &rfm)
			if rfm.Members != 2 || len(rfm.Segments) != 11 {
				t.Fatalf("rfm %+v", rfm)
			}
			var page struct {
				Items []reports.RFMRow `json:"items"`
				Next  string           `json:"next"`
			}
			a.do(t, "GET", "/v1/analytics/rfm/members?limit=1", adminKey, nil).ok(t, 200, &page)
			if len(page.Items) != 1 || page.Next == "" {
				t.Fatalf("first page %+v", page)
			}
			first, next := page.Items[0], page.Next
			page.Next = ""
			a.do(t, "GET", "/v1/analytics/rfm/members?limit=1&after="+next, adminKey, nil).ok(t, 200, &page)
			if len(page.Items) != 1 || page.Next != "" || page.Items[0].MemberID <= first.MemberID || page.Items[0].Frequency+first.Frequency != 3 {
				t.Fatalf("second page %+v after %+v", page, first)
			}
			if r := a.do(t, "GET", "/v1/analytics/rfm/members?format=csv", adminKey, nil); r.status != 200 || strings.Count(string(r.body), "\n") != 3 {
				t.Fatalf("members csv %d: %s", r.status, r.body)
			}
			for path, field := range map[string]string{
				"/v1/analytics/kpis?bucket=hour":                      "bucket",
				"/v1/analytics/kpis?segment=vip":                      "segment",
				"/v1/analytics/kpis?from=2020-01-01&bucket=day":       "from",
				"/v1/analytics/cohorts?from=yesterday":                "from",
				"/v1/analytics/cohorts?from=2001-01-01&to=2000-01-01": "from",
				"/v1/analytics/rfm?format=xml":                        "format",
				"/v1/analytics/rfm/members?limit=0":                   "limit",
				"/v1/analytics/rfm/members?segment=%27%3B--":          "segment",
			} {
				a.do(t, "GET", path, adminKey, nil).problem(t, 422, kopilka.EINVALID, field)
			}
			a.do(t, "GET", "/v1/analytics/rfm", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
			// Both members bought on one day only: no repeat purchase, nothing to fit.
			a.do(t, "GET", "/v1/analytics/churn", adminKey, nil).problem(t, 409, kopilka.ESTATE, "")
			a.do(t, "GET", "/v1/analytics/churn?k=0.5", adminKey, nil).problem(t, 422, kopilka.EINVALID, "k")
			a.do(t, "GET", "/v1/analytics/churn?threshold=x", adminKey, nil).problem(t, 422, kopilka.EINVALID, "threshold")
			// A hold-out of more than half is refused, naming the field.
			r = a.do(t, "PUT", "/v1/programme/campaigns/big", adminKey, map[string]any{"starts_at": "2026-01-01", "ends_at": "2027-01-01",
				"holdout_percent": "60", "rules": []map[string]any{{"id": "b1", "kind": "per_receipt", "points": 1}}})
			r.problem(t, 422, kopilka.EINVALID, "campaigns[0].holdout_percent")
			var ref reports.Refreshed
			a.do(t, "POST", "/v1/analytics/refresh", adminKey, nil).ok(t, 200, &ref)
			if ref.Scored != 2 || ref.Changed != 2 || ref.AtRisk != 0 {
				t.Fatalf("refresh %+v", ref)
			}
		})
	}
}

// TestImports_MembersAsAJob sends a CSV of members, follows the job to its
// end, and sends it again; bad requests name their field.
func TestImports_MembersAsAJob(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			file := "external_id,phone,card,balance\nx1,+79161112290,8000000001,300\nx2,+79161112290,,\n"
			var j struct {
				ID      string `json:"id"`
				Status  string `json:"status"`
				Summary struct {
					Rows, Created, Refused, Points int64
					Errors                         []struct{ Line int64 }
				} `json:"summary"`
			}
			for run := range 2 {
				r := a.do(t, "POST", "/v1/imports/members?source=old", adminKey, file)
				r.ok(t, 202, &j)
				if r.header.Get("Location") != "/v1/imports/"+j.ID {
					t.Fatalf("Location %q", r.header.Get("Location"))
				}
				for i := 0; j.Status == "running" && i < 500; i++ {
					time.Sleep(10 * time.Millisecond)
					a.do(t, "GET", "/v1/imports/"+j.ID, adminKey, nil).ok(t, 200, &j)
				}
				created := int64(1 - run) // the second run makes nobody
				if j.Status != "done" || j.Summary.Rows != 2 || j.Summary.Created != created || j.Summary.Refused != 1 || j.Summary.Errors[0].Line != 3 {
					t.Fatalf("run %d: job %+v", run, j)
				}
			}
			var m kopilka.Member
			a.do(t, "GET", "/v1/members?card=8000000001", adminKey, nil).ok(t, 200, &m)
			var b kopilka.BalanceView
			a.do(t, "GET", "/v1/members/"+m.ID+"/balance", adminKey, nil).ok(t, 200, &b)
			if b.Available != 300 {
				t.Fatalf("balance %+v", b)
			}
			a.do(t, "POST", "/v1/imports/members", adminKey, file).problem(t, 422, kopilka.EINVALID, "source")
			a.do(t, "POST", "/v1/imports/members?source=old&format=xml", adminKey, file).problem(t, 422, kopilka.EINVALID, "format")
			a.do(t, "POST", "/v1/imports/members?source=old", adminKey, "id,phone\n1,2\n").problem(t, 422, kopilka.EINVALID, "file")
			a.do(t, "POST", "/v1/imports/members?source=old", adminKey, strings.Repeat("x", 33<<20)).problem(t, 413, kopilka.ETOOLARGE, "")
			a.do(t, "GET", "/v1/imports/nonesuch", adminKey, nil).problem(t, 404, kopilka.ENOTFOUND, "")
		})
	}
}
