package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/programme"
	"github.com/kopilka/kopilka/reports"
)

// The programme for marketing: its settings, rules and campaigns; a rule
// edited in a form whose condition the server checks as it is typed; a
// rule or campaign simulated on past receipts before it is switched on; a
// receipt tested against the live programme and a draft; the programme
// file exported and imported.

func (s *Site) programmePage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	levels := make([]kopilka.Tier, 5)
	copy(levels, p.Tiers.Levels)
	data := map[string]any{"P": p, "Levels": levels, "Done": doneMessage(q, r.URL.Query().Get("done")),
		"CanWrite":    access.Allow(r.Context(), access.ProgrammeWrite) == nil,
		"CanSimulate": access.Allow(r.Context(), access.ProgrammeSimulate) == nil}
	s.render(w, r, http.StatusOK, "programme", Office, q.T("Programme"), data)
	return nil
}

// saveSettings changes the programme's main settings from its page.
func (s *Site) saveSettings(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var pr kopilka.Problems
	percent := func(name string) kopilka.Percent {
		v, err := kopilka.ParsePercent(decimal(f.Get(name)))
		if err != nil {
			pr.Add(name, "must be a number of per cent, such as 5 or 2.5")
		}
		return v
	}
	whole := func(name string) int {
		v, err := strconv.Atoi(strings.TrimSpace(f.Get(name)))
		if err != nil {
			pr.Add(name, "must be a whole number")
		}
		return v
	}
	earn, spend := percent("earn_rate_percent"), percent("max_spend_percent")
	value, pending, expiry := whole("point_value"), whole("pending_days"), whole("expiry_months")
	zone := strings.TrimSpace(f.Get("time_zone"))
	if err := pr.Err(); err != nil {
		return err
	}
	_, err := s.App.Programme.UpdateProgramme(r.Context(), func(p *kopilka.Programme) error {
		p.EarnRate, p.MaxSpend, p.PointValue, p.PendingDays, p.TimeZone = earn, spend, int64(value), pending, zone
		if p.ExpiryDays == 0 {
			p.ExpiryMonths = expiry
		}
		return nil
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/programme?done=settings-saved", http.StatusSeeOther)
	return nil
}

// ruleFromForm reads the rule's form over the stored rule of its id (the
// fields the form does not show stay as they are).
func (s *Site) ruleFromForm(r *http.Request) (kopilka.Rule, error) {
	f := r.PostForm
	id := strings.TrimSpace(f.Get("id"))
	var rule kopilka.Rule
	if p, err := s.App.Programme.Programme(r.Context()); err == nil {
		for _, x := range p.Rules {
			if x.ID == id {
				rule = x
			}
		}
	} else {
		return rule, err
	}
	var pr kopilka.Problems
	number := func(name string) int64 {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			pr.Add(name, "must be a whole number")
		}
		return n
	}
	rule.ID, rule.Name, rule.Kind = id, strings.TrimSpace(f.Get("name")), f.Get("kind")
	rule.Condition = f.Get("condition")
	rule.StartsAt, rule.EndsAt = strings.TrimSpace(f.Get("starts_at")), strings.TrimSpace(f.Get("ends_at"))
	rule.Categories, rule.SKUs, rule.Tiers = commaList(f.Get("categories")), commaList(f.Get("skus")), commaList(f.Get("tiers"))
	rule.Points, rule.Per, rule.Threshold = number("points"), number("per"), number("threshold")
	rule.Priority = int(number("priority"))
	rule.Disabled, rule.Stop = f.Get("disabled") != "", f.Get("stop") != ""
	rule.Percent = 0
	if v := decimal(f.Get("percent")); v != "" {
		p, err := kopilka.ParsePercent(v)
		if err != nil {
			pr.Add("percent", "must be a number of per cent, such as 5 or 2.5")
		}
		rule.Percent = p
	}
	rule.Factor = 0
	if v := decimal(f.Get("factor")); v != "" {
		q, err := kopilka.ParseQuantity(v)
		if err != nil {
			pr.Add("factor", "must be a number, such as 2 or 1.5")
		}
		rule.Factor = q
	}
	return rule, pr.Err()
}

func (s *Site) ruleForm(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	rule := kopilka.Rule{Kind: kopilka.RulePercent}
	if id != "new" {
		found := false
		for _, x := range p.Rules {
			if x.ID == id {
				rule, found = x, true
			}
		}
		if !found {
			return kopilka.Errorf(kopilka.ENOTFOUND, "no rule has id %q", id)
		}
	}
	s.renderRule(w, r, http.StatusOK, rule, id == "new", nil)
	return nil
}

// ruleKinds are the kinds a rule form offers.
var ruleKinds = []string{kopilka.RulePercent, kopilka.RulePerAmount, kopilka.RulePerUnit, kopilka.RuleMultiplier, kopilka.RulePerReceipt, kopilka.RuleThreshold}

func (s *Site) renderRule(w http.ResponseWriter, r *http.Request, status int, rule kopilka.Rule, isNew bool, problems []kopilka.FieldError) {
	q := reqOf(r)
	title := q.T("New rule")
	if !isNew {
		title = q.T("Rule") + " " + rule.ID
	}
	s.render(w, r, status, "rule", Office, title, map[string]any{"R": rule, "New": isNew, "Kinds": ruleKinds, "Problems": problems,
		"CanWrite": access.Allow(r.Context(), access.ProgrammeWrite) == nil, "CanSimulate": access.Allow(r.Context(), access.ProgrammeSimulate) == nil})
}

// problemsOf are the fields an EINVALID error names (nil for another error).
func problemsOf(err error) []kopilka.FieldError {
	var e *kopilka.Error
	if errors.As(err, &e) && e.Code == kopilka.EINVALID {
		if len(e.Fields) > 0 {
			return e.Fields
		}
		return []kopilka.FieldError{{Field: "", Detail: e.Message}}
	}
	return nil
}

// saveRule saves the rule; a rule the programme refuses comes back in its
// form with the fields at fault.
func (s *Site) saveRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.ruleFromForm(r)
	switch {
	case err != nil:
	case r.PostForm.Get("new") != "":
		_, err = s.App.Programme.AddRule(r.Context(), rule)
	case rule.ID != r.PathValue("id"):
		err = kopilka.Invalid("id", "is not the rule this form edits")
	default:
		_, err = s.App.Programme.PutRule(r.Context(), rule)
	}
	if kopilka.ErrorCode(err) == kopilka.ECONFLICT {
		s.renderRule(w, r, http.StatusConflict, rule, true, conflictProblems(err))
		return nil
	}
	if probs := problemsOf(err); probs != nil {
		s.renderRule(w, r, http.StatusUnprocessableEntity, rule, r.PostForm.Get("new") != "", probs)
		return nil
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/programme?done=rule-saved", http.StatusSeeOther)
	return nil
}

// checkRule answers, as JSON for the form's script, whether the programme
// would take the rule as it stands: {"ok": true} or the problems, each
// with its field and detail (a condition's names the line and column).
func (s *Site) checkRule(w http.ResponseWriter, r *http.Request) error {
	type answer struct {
		OK       bool                 `json:"ok"`
		Problems []kopilka.FieldError `json:"problems,omitempty"`
	}
	rule, err := s.ruleFromForm(r)
	if err == nil {
		err = s.App.Programme.CheckRule(r.Context(), rule)
	}
	a := answer{OK: err == nil, Problems: problemsOf(err)}
	if err != nil && a.Problems == nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(a)
}

// simulateRule shows what the rule in the form would have given on the
// last days' receipts, against what the live programme gave them.
func (s *Site) simulateRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.ruleFromForm(r)
	if probs := problemsOf(err); probs != nil {
		s.renderRule(w, r, http.StatusUnprocessableEntity, rule, r.PostForm.Get("new") != "", probs)
		return nil
	}
	days, _ := strconv.Atoi(r.PostForm.Get("days"))
	if days <= 0 {
		days = 30
	}
	sim, err := s.App.Programme.Simulate(r.Context(), programme.Proposal{Days: days, Rule: &rule})
	if probs := problemsOf(err); probs != nil {
		s.renderRule(w, r, http.StatusUnprocessableEntity, rule, r.PostForm.Get("new") != "", probs)
		return nil
	} else if err != nil {
		return err
	}
	q := reqOf(r)
	s.render(w, r, http.StatusOK, "simulation", Office, q.T("Simulation of rule")+" "+rule.ID, map[string]any{"Sim": sim, "Days": days, "Back": "/office/programme/rules/" + url.PathEscape(rule.ID)})
	return nil
}

// simulateCampaign shows what a stored campaign would have given on the
// last 30 days' receipts.
func (s *Site) simulateCampaign(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	for _, c := range p.Campaigns {
		if c.ID == id {
			c.Enabled = true // as if switched on
			sim, err := s.App.Programme.Simulate(r.Context(), programme.Proposal{Days: 30, Campaign: &c})
			if err != nil {
				return err
			}
			s.render(w, r, http.StatusOK, "simulation", Office, q.T("Simulation of campaign")+" "+id, map[string]any{"Sim": sim, "Days": 30, "Back": "/office/programme"})
			return nil
		}
	}
	return kopilka.Errorf(kopilka.ENOTFOUND, "no campaign has id %q", id)
}

// exportProgramme downloads the programme as its JSON document.
func (s *Site) exportProgramme(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="programme.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"programme": p})
}

// importProgramme replaces the whole programme from a document pasted or
// uploaded in the form ({"programme": …}, as the export gives it).
func (s *Site) importProgramme(w http.ResponseWriter, r *http.Request) error {
	doc := []byte(r.PostForm.Get("document"))
	var in struct {
		Programme *kopilka.Programme `json:"programme"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Programme == nil || dec.More() {
		return kopilka.Invalid("document", "must be a programme document as the export gives it: {\"programme\": {…}}")
	}
	if _, err := s.App.Programme.SetProgramme(r.Context(), *in.Programme); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/programme?done=imported", http.StatusSeeOther)
	return nil
}

// saveTiers replaces the tier plan from its form: the basis, the window
// and up to five levels (name, threshold, earn multiplier); an empty row
// is no level.
func (s *Site) saveTiers(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	plan := kopilka.TierPlan{Basis: f.Get("basis"), Window: f.Get("window")}
	var pr kopilka.Problems
	if v := strings.TrimSpace(f.Get("months")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			pr.Add("tiers.months", "must be a whole number of months")
		}
		plan.Months = n
	}
	for i := range 5 {
		name := strings.TrimSpace(f.Get("level_name_" + strconv.Itoa(i)))
		if name == "" {
			continue
		}
		field := "tiers.levels[" + strconv.Itoa(len(plan.Levels)) + "]"
		lv := kopilka.Tier{Name: name}
		n, err := strconv.ParseInt(strings.TrimSpace(f.Get("level_threshold_"+strconv.Itoa(i))), 10, 64)
		if err != nil {
			pr.Add(field+".threshold", "must be a whole number (kopecks of spend, or points)")
		}
		lv.Threshold = n
		if v := decimal(f.Get("level_multiplier_" + strconv.Itoa(i))); v != "" {
			q, err := kopilka.ParseQuantity(v)
			if err != nil {
				pr.Add(field+".earn_multiplier", "must be a number, such as 1.5")
			}
			lv.EarnMultiplier = q
		}
		plan.Levels = append(plan.Levels, lv)
	}
	if len(plan.Levels) == 0 {
		plan = kopilka.TierPlan{}
	}
	if err := pr.Err(); err != nil {
		return err
	}
	if _, err := s.App.Programme.UpdateProgramme(r.Context(), func(p *kopilka.Programme) error { p.Tiers = plan; return nil }); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/programme?done=settings-saved#tiers", http.StatusSeeOther)
	return nil
}

// saveBonuses changes the event bonuses' points (zero switches one off);
// their lives and windows stay as they are.
func (s *Site) saveBonuses(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var pr kopilka.Problems
	points := func(name string) int64 {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			pr.Add("bonuses."+name, "must be a whole number of points, 0 for none")
		}
		return n
	}
	welcome, profile, birthday := points("welcome"), points("profile_complete"), points("birthday")
	referrer, referee := points("referrer_points"), points("referee_points")
	if err := pr.Err(); err != nil {
		return err
	}
	_, err := s.App.Programme.UpdateProgramme(r.Context(), func(p *kopilka.Programme) error {
		b := &p.Bonuses
		b.Welcome.Points, b.Profile.Points, b.Birthday.Points = welcome, profile, birthday
		b.Referral.ReferrerPoints, b.Referral.RefereePoints = referrer, referee
		return nil
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/programme?done=settings-saved#bonuses", http.StatusSeeOther)
	return nil
}

// campaignForm edits a campaign: its name, dates, whether it is on, the
// members it is for (a CEL segment), its budget, and its rules (as the
// programme document writes them, a JSON list).
func (s *Site) campaignForm(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	c := kopilka.Campaign{Rules: []kopilka.Rule{}}
	if id != "new" {
		p, err := s.App.Programme.Programme(r.Context())
		if err != nil {
			return err
		}
		found := false
		for _, x := range p.Campaigns {
			if x.ID == id {
				c, found = x, true
			}
		}
		if !found {
			return kopilka.Errorf(kopilka.ENOTFOUND, "no campaign has id %q", id)
		}
	}
	rules, _ := json.MarshalIndent(c.Rules, "", "  ")
	var result *reports.Holdout
	if c.Holdout > 0 && access.Allow(r.Context(), access.ReportsAnalytics) == nil {
		h, err := s.App.Reports.Holdout(r.Context(), c.ID)
		switch {
		case err == nil:
			result = &h
		case kopilka.ErrorCode(err) != kopilka.ESTATE && kopilka.ErrorCode(err) != kopilka.ENOTFOUND:
			return err
		}
	}
	s.renderCampaign(w, r, http.StatusOK, c, string(rules), id == "new", nil, result)
	return nil
}

func (s *Site) renderCampaign(w http.ResponseWriter, r *http.Request, status int, c kopilka.Campaign, rules string, isNew bool, probs []kopilka.FieldError, result ...*reports.Holdout) {
	q := reqOf(r)
	title := q.T("New campaign")
	if !isNew {
		title = q.T("Campaign") + " " + c.ID
	}
	var h *reports.Holdout
	if len(result) > 0 {
		h = result[0]
	}
	s.render(w, r, status, "campaign", Office, title, map[string]any{"C": c, "Rules": rules, "New": isNew, "Problems": probs, "Holdout": h,
		"CanWrite": access.Allow(r.Context(), access.ProgrammeWrite) == nil, "CanSimulate": access.Allow(r.Context(), access.ProgrammeSimulate) == nil})
}

// campaignFromForm reads the campaign's form.
func campaignFromForm(r *http.Request) (kopilka.Campaign, string, error) {
	f := r.PostForm
	c := kopilka.Campaign{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Enabled: f.Get("enabled") != "",
		StartsAt: strings.TrimSpace(f.Get("starts_at")), EndsAt: strings.TrimSpace(f.Get("ends_at")), Segment: f.Get("segment")}
	rules := f.Get("rules")
	var pr kopilka.Problems
	if v := strings.TrimSpace(f.Get("budget")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			pr.Add("budget", "must be a whole number of points, empty for no limit")
		}
		c.Budget = n
	}
	if v := strings.TrimSpace(f.Get("holdout_percent")); v != "" {
		h, err := kopilka.ParsePercent(decimal(v))
		if err != nil {
			pr.Add("holdout_percent", "must be a percentage, 0 to 50")
		}
		c.Holdout = h
	}
	dec := json.NewDecoder(strings.NewReader(rules))
	dec.DisallowUnknownFields()
	if strings.TrimSpace(rules) == "" {
		c.Rules = []kopilka.Rule{}
	} else if err := dec.Decode(&c.Rules); err != nil || dec.More() {
		pr.Add("rules", "must be one JSON list of rules, as the programme document writes them")
	}
	return c, rules, pr.Err()
}

// saveCampaign saves the campaign; one the programme refuses comes back in
// its form with the fields at fault.
func (s *Site) saveCampaign(w http.ResponseWriter, r *http.Request) error {
	c, rules, err := campaignFromForm(r)
	switch {
	case err != nil:
	case r.PostForm.Get("new") != "":
		_, err = s.App.Programme.AddCampaign(r.Context(), c)
	case c.ID != r.PathValue("id"):
		err = kopilka.Invalid("id", "is not the campaign this form edits")
	default:
		_, err = s.App.Programme.PutCampaign(r.Context(), c)
	}
	if kopilka.ErrorCode(err) == kopilka.ECONFLICT {
		s.renderCampaign(w, r, http.StatusConflict, c, rules, true, conflictProblems(err))
		return nil
	}
	if probs := problemsOf(err); probs != nil {
		s.renderCampaign(w, r, http.StatusUnprocessableEntity, c, rules, r.PostForm.Get("new") != "", probs)
		return nil
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/programme?done=campaign-saved", http.StatusSeeOther)
	return nil
}

// simulateDraftCampaign simulates the campaign in the form, as if on, on
// the last 30 days' receipts.
func (s *Site) simulateDraftCampaign(w http.ResponseWriter, r *http.Request) error {
	c, rules, err := campaignFromForm(r)
	if probs := problemsOf(err); probs != nil {
		s.renderCampaign(w, r, http.StatusUnprocessableEntity, c, rules, r.PostForm.Get("new") != "", probs)
		return nil
	}
	c.Enabled = true
	sim, err := s.App.Programme.Simulate(r.Context(), programme.Proposal{Days: 30, Campaign: &c})
	if probs := problemsOf(err); probs != nil {
		s.renderCampaign(w, r, http.StatusUnprocessableEntity, c, rules, r.PostForm.Get("new") != "", probs)
		return nil
	} else if err != nil {
		return err
	}
	q := reqOf(r)
	s.render(w, r, http.StatusOK, "simulation", Office, q.T("Simulation of campaign")+" "+c.ID, map[string]any{"Sim": sim, "Days": 30, "Back": "/office/programme"})
	return nil
}

// conflictProblems are the fields a conflict names, or its message.
func conflictProblems(err error) []kopilka.FieldError {
	var e *kopilka.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		return e.Fields
	}
	if e != nil {
		return []kopilka.FieldError{{Detail: e.Message}}
	}
	return []kopilka.FieldError{{Detail: err.Error()}}
}
