package surveys

import (
	"context"
	"encoding/csv"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Results are a survey's invitations of [From, To) and their answers, in
// all (Group "") and by store or partner (By).
type Results struct {
	SurveyID string    `json:"survey_id"`
	Kind     string    `json:"kind"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	By       string    `json:"by,omitempty"`
	Total    Result    `json:"total"`
	Groups   []Result  `json:"groups,omitempty"`
}

// Result is one group's figures. ResponseRate = 100 × answered / sent.
//
//   - NPS (Reichheld, "The One Number You Need to Grow", HBR 2003):
//     promoters score 9–10, passives 7–8, detractors 0–6; NPS = % promoters −
//     % detractors of the answers, −100 to 100.
//   - CSI: the mean of each attribute's 1–5 scores, Mean their mean, and
//     Satisfied the percentage of all scores that are 4 or 5.
//   - CES: the mean of the 1–7 scores, and Satisfied the percentage of 5 to
//     7 (easy).
//
// Means and percentages are rounded to two decimals.
type Result struct {
	Group        string             `json:"group"`
	Sent         int64              `json:"sent"`
	Answered     int64              `json:"answered"`
	ResponseRate float64            `json:"response_rate"`
	Promoters    int64              `json:"promoters,omitempty"`
	Passives     int64              `json:"passives,omitempty"`
	Detractors   int64              `json:"detractors,omitempty"`
	NPS          *float64           `json:"nps,omitempty"`
	Mean         float64            `json:"mean"`
	Satisfied    float64            `json:"satisfied_percent"`
	Attributes   map[string]float64 `json:"attributes,omitempty"`
	sums         []int64
	scores, good int64
}

func (r *Result) add(inv Invitation) {
	r.Sent++
	if inv.AnsweredAt == nil {
		return
	}
	r.Answered++
	for len(r.sums) < len(inv.Scores) {
		r.sums = append(r.sums, 0)
	}
	for i, sc := range inv.Scores {
		r.sums[i] += int64(sc)
		r.scores++
		switch inv.Kind {
		case NPS:
			switch {
			case sc >= 9:
				r.Promoters++
			case sc >= 7:
				r.Passives++
			default:
				r.Detractors++
			}
		case CSI:
			if sc >= 4 {
				r.good++
			}
		case CES:
			if sc >= 5 {
				r.good++
			}
		}
	}
}

func (r *Result) finish(kind string, attrs []string) {
	r.ResponseRate = pct(r.Answered, r.Sent)
	if r.Answered == 0 {
		return
	}
	var total int64
	for _, s := range r.sums {
		total += s
	}
	r.Mean = round2(float64(total) / float64(r.scores))
	switch kind {
	case NPS:
		n := round2(pct(r.Promoters, r.Answered) - pct(r.Detractors, r.Answered))
		r.NPS = &n
	case CSI:
		r.Attributes = map[string]float64{}
		for i, a := range attrs {
			if i < len(r.sums) {
				r.Attributes[a] = round2(float64(r.sums[i]) / float64(r.Answered))
			}
		}
		r.Satisfied = pct(r.good, r.scores)
	case CES:
		r.Satisfied = pct(r.good, r.scores)
	}
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round2(100 * float64(a) / float64(b))
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Results returns the survey's results for [from, to) (zero to: now; zero
// from: 30 days before to), in all and by "store" or "partner" (roles
// admin, operator, marketing). An unknown survey is ENOTFOUND.
func (s *Service) Results(ctx context.Context, surveyID string, from, to time.Time, by string) (Results, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return Results{}, err
	}
	if by != "" && by != "store" && by != "partner" {
		return Results{}, kopilka.FieldErr(kopilka.EINVALID, "by", `by is "store" or "partner"`)
	}
	if to.IsZero() {
		to = s.Env.Time().Add(time.Microsecond) // now included
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !to.After(from) {
		return Results{}, kopilka.FieldErr(kopilka.EINVALID, "from", "the period ends before it starts")
	}
	var sv *Survey
	out := Results{SurveyID: surveyID, From: from.UTC(), To: to.UTC(), By: by}
	groups := map[string]*Result{}
	err := s.DB.View(ctx, func(tx Tx) error {
		svs, err := tx.Surveys(ctx)
		if err != nil {
			return err
		}
		for i := range svs {
			if svs[i].ID == surveyID {
				sv = &svs[i]
			}
		}
		if sv == nil {
			return kopilka.Errorf(kopilka.ENOTFOUND, "no survey has this id")
		}
		return tx.Invitations(ctx, surveyID, from, to, func(inv Invitation) error {
			out.Total.add(inv)
			if by == "" {
				return nil
			}
			key := inv.StoreID
			if by == "partner" {
				key = inv.PartnerID
			}
			g := groups[key]
			if g == nil {
				g = &Result{Group: key}
				groups[key] = g
			}
			g.add(inv)
			return nil
		})
	})
	if err != nil {
		return Results{}, err
	}
	out.Kind = sv.Kind
	out.Total.finish(sv.Kind, sv.Attributes)
	for _, g := range groups {
		g.finish(sv.Kind, sv.Attributes)
		out.Groups = append(out.Groups, *g)
	}
	slices.SortFunc(out.Groups, func(a, b Result) int {
		switch {
		case a.Group < b.Group:
			return -1
		case a.Group > b.Group:
			return 1
		}
		return 0
	})
	return out, nil
}

// WriteCSV writes the results: the total, then a row a group.
func (r Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"group", "sent", "answered", "response_rate", "promoters", "passives", "detractors", "nps", "mean", "satisfied_percent"})
	row := func(label string, g Result) {
		nps := ""
		if g.NPS != nil {
			nps = strconv.FormatFloat(*g.NPS, 'f', 2, 64)
		}
		_ = cw.Write([]string{kopilka.CSVCell(label), strconv.FormatInt(g.Sent, 10), strconv.FormatInt(g.Answered, 10),
			strconv.FormatFloat(g.ResponseRate, 'f', 2, 64), strconv.FormatInt(g.Promoters, 10), strconv.FormatInt(g.Passives, 10),
			strconv.FormatInt(g.Detractors, 10), nps, strconv.FormatFloat(g.Mean, 'f', 2, 64), strconv.FormatFloat(g.Satisfied, 'f', 2, 64)})
	}
	row("total", r.Total)
	for _, g := range r.Groups {
		row(g.Group, g)
	}
	cw.Flush()
	return cw.Error()
}
