package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/surveys"
)

// surveyRow is a survey with its results of the last 30 days by store.
type surveyRow struct {
	S surveys.Survey
	R surveys.Results
}

// surveysPage lists the surveys with their last 30 days' results (in all
// and by store), and a form to add or change one.
func (s *Site) surveysPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	list, err := s.App.Surveys.Surveys(r.Context())
	if err != nil {
		return err
	}
	var rows []surveyRow
	for _, sv := range list {
		res, err := s.App.Surveys.Results(r.Context(), sv.ID, s.App.Env.Time().AddDate(0, 0, -30), s.App.Env.Time().Add(1), "store")
		if err != nil {
			return err
		}
		rows = append(rows, surveyRow{S: sv, R: res})
	}
	s.render(w, r, http.StatusOK, "surveys", Office, q.T("Surveys"), map[string]any{"Rows": rows,
		"CanWrite": access.Allow(r.Context(), access.SurveysWrite) == nil, "Done": r.URL.Query().Get("done") != ""})
	return nil
}

// saveSurvey adds or changes a survey from the form.
func (s *Site) saveSurvey(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	sv := surveys.Survey{ID: strings.TrimSpace(f.Get("id")), Kind: f.Get("kind"), After: f.Get("after"), Question: f.Get("question"),
		Enabled: f.Get("enabled") != ""}
	if a := strings.TrimSpace(f.Get("attributes")); a != "" {
		sv.Attributes = commaList(a)
	}
	for name, dst := range map[string]*int64{"bonus_points": &sv.BonusPoints} {
		if v := strings.TrimSpace(f.Get(name)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return kopilka.Invalid(name, "must be a whole number")
			}
			*dst = n
		}
	}
	if v := strings.TrimSpace(f.Get("sample_percent")); v != "" {
		p, err := kopilka.ParsePercent(decimal(v))
		if err != nil {
			return kopilka.Invalid("sample_percent", "must be a percentage")
		}
		sv.SamplePercent = p
	}
	if v := strings.TrimSpace(f.Get("valid_days")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return kopilka.Invalid("valid_days", "must be a whole number of days")
		}
		sv.ValidDays = n
	}
	if _, err := s.App.Surveys.PutSurvey(r.Context(), sv); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/surveys?done=1", http.StatusSeeOther)
	return nil
}
