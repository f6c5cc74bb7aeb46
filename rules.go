package kopilka

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rule kinds. Line rules give points for the lines they match; receipt
// rules give points once for the receipt; a multiplier adds to what the
// line rules gave.
const (
	RulePercent    = "percent"     // Percent of the matched lines' paid amount
	RulePerAmount  = "per_amount"  // Points for every Per minor units of the matched lines' paid amount
	RulePerUnit    = "per_unit"    // Points for every unit bought of the matched lines
	RuleMultiplier = "multiplier"  // (Factor − 1) × the points line rules gave the matched lines
	RulePerReceipt = "per_receipt" // Points once when any line matches
	RuleThreshold  = "threshold"   // Points when the matched lines' paid amount reaches Threshold
)

var ruleKinds = []string{RulePercent, RulePerAmount, RulePerUnit, RuleMultiplier, RulePerReceipt, RuleThreshold}

// Rule is one earning rule, written by the operator. Every filter that is
// given must hold for a line to match; Condition is a CEL expression over
// the receipt, the line, the member and the store.
type Rule struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Kind     string `json:"kind"`
	Disabled bool   `json:"disabled,omitempty"`

	Percent   Percent  `json:"percent,omitempty"`
	Points    int64    `json:"points,omitempty"`
	Per       int64    `json:"per,omitempty"`
	Threshold int64    `json:"threshold,omitempty"`
	Repeat    bool     `json:"repeat,omitempty"`
	Factor    Quantity `json:"factor,omitempty"`

	Categories []string `json:"categories,omitempty"`
	SKUs       []string `json:"skus,omitempty"`
	Stores     []string `json:"stores,omitempty"`
	Partners   []string `json:"partners,omitempty"`
	Channels   []string `json:"channels,omitempty"`
	Days       []string `json:"days,omitempty"`  // mon … sun, in the programme's time zone
	Hours      *Hours   `json:"hours,omitempty"` // in the programme's time zone
	Tiers      []string `json:"tiers,omitempty"`
	Condition  string   `json:"condition,omitempty"`
	StartsAt   string   `json:"starts_at,omitempty"` // local time in the programme's zone, or RFC 3339
	EndsAt     string   `json:"ends_at,omitempty"`

	Priority int    `json:"priority,omitempty"`
	Group    string `json:"group,omitempty"`
	Stop     bool   `json:"stop,omitempty"`

	CapPerReceipt int64      `json:"cap_per_receipt,omitempty"`
	CapPerMember  *MemberCap `json:"cap_per_member,omitempty"`
	Budget        int64      `json:"budget,omitempty"`
}

// Hours is a daily time window [From, To) as "HH:MM"; To before From wraps past midnight.
type Hours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MemberCap limits the points a rule gives one member in a calendar period.
type MemberCap struct {
	Points int64  `json:"points"`
	Period string `json:"period"` // day, week (from Monday), month, quarter, year
}

// Campaign groups rules in time and to a segment of members, with a budget.
type Campaign struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Enabled  bool   `json:"enabled"`
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
	// Segment is a CEL expression over the member; empty means everyone.
	Segment string `json:"segment,omitempty"`
	// Budget is the most points the campaign gives in all; zero: no limit.
	Budget int64 `json:"budget,omitempty"`
	// Holdout is the share of the target segment kept out of the campaign,
	// as a control group (0 to 50 %): a member is held out by a hash of the
	// campaign's and the member's ids (HoldsOut, InShare), the same at every till
	// and in every report. Its report compares the two groups.
	Holdout Percent `json:"holdout_percent,omitempty"`
	Rules   []Rule  `json:"rules"`
}

// MaxHoldout is the largest share of a campaign's segment it may hold out.
const MaxHoldout = 50 * PercentScale

// HoldsOut reports whether the campaign keeps the member out, as one of its
// control group: the first eight bytes of SHA-256(campaign id, 0, member
// id) modulo 10,000 fall below the hold-out in hundredths of a percent. A
// campaign without a hold-out keeps nobody out; nor is a receipt without a
// member ever held out.
func (c *Campaign) HoldsOut(memberID string) bool {
	return c.Holdout > 0 && memberID != "" && InShare(c.ID, memberID, c.Holdout)
}

// InShare draws a stable share of things without storing it: whether the
// first eight bytes of SHA-256(of, 0, id) modulo 10,000 fall below share
// in hundredths of a percent. The same of and id always get the same
// answer, on every instance; over many ids about share of them do.
func InShare(of, id string, share Percent) bool {
	sum := sha256.Sum256([]byte(of + "\x00" + id))
	return int64(binary.BigEndian.Uint64(sum[:8])%10_000) < int64(share)
}

// SpendRules limit what points may pay for.
type SpendRules struct {
	// MinBalance is the balance a member needs before spending at all.
	MinBalance int64 `json:"min_balance,omitempty"`
	// CardDailyLimit is the most points one member may spend in a day of
	// the programme's time zone (zero: no limit), whatever card or member id
	// the receipts name, so that a stolen card cannot drain a member's
	// account at once.
	CardDailyLimit     int64           `json:"card_daily_limit,omitempty"`
	ExcludedCategories []string        `json:"excluded_categories,omitempty"`
	ExcludedSKUs       []string        `json:"excluded_skus,omitempty"`
	Categories         []CategoryShare `json:"categories,omitempty"`
}

// CategoryShare is the largest share of a line in Category that points may pay.
type CategoryShare struct {
	Category string  `json:"category"`
	MaxSpend Percent `json:"max_spend_percent"`
}

// TierPlan is how members qualify for tiers.
type TierPlan struct {
	// Basis is what qualifies: "spend" (money paid, minor units) or "points" (earned).
	Basis string `json:"basis,omitempty"`
	// Window is "rolling" (the last Months months) or "calendar_year".
	Window string `json:"window,omitempty"`
	Months int    `json:"months,omitempty"`
	Levels []Tier `json:"levels,omitempty"`
}

// Tier is one level, reached at Threshold; its benefits apply to its members.
type Tier struct {
	Name      string `json:"name"`
	Threshold int64  `json:"threshold"`
	// EarnMultiplier multiplies the points line rules give ("1.5"); zero or 1: none.
	EarnMultiplier Quantity `json:"earn_multiplier,omitempty"`
	// MaxSpend, when set, replaces the programme's largest share points may pay.
	MaxSpend *Percent `json:"max_spend_percent,omitempty"`
}

// Life is how long the bonus lives (zero: like earned points).
func (b Bonus) Life() Life { return Life{Days: b.ExpiresDays, Months: b.ExpiresMonths} }

// Life is how long the referral bonuses live (zero: like earned points).
func (b ReferralBonus) Life() Life { return Life{Days: b.ExpiresDays, Months: b.ExpiresMonths} }

// Bonus is a number of points given once for an event.
type Bonus struct {
	Points int64 `json:"points,omitempty"`
	// ExpiresDays or ExpiresMonths is how long the bonus lives (at most one
	// of them; neither: like earned points).
	ExpiresDays   int `json:"expires_days,omitempty"`
	ExpiresMonths int `json:"expires_months,omitempty"`
}

// BirthdayBonus is given once a year in a window around the birthday.
type BirthdayBonus struct {
	Bonus
	DaysBefore int `json:"days_before,omitempty"`
	DaysAfter  int `json:"days_after,omitempty"`
}

// ReferralBonus is given to both sides after the referred member's first purchase.
type ReferralBonus struct {
	ReferrerPoints int64 `json:"referrer_points,omitempty"`
	RefereePoints  int64 `json:"referee_points,omitempty"`
	ExpiresDays    int   `json:"expires_days,omitempty"`
	ExpiresMonths  int   `json:"expires_months,omitempty"`
}

// Bonuses are the event bonuses; zero points switch one off.
type Bonuses struct {
	Welcome  Bonus         `json:"welcome"`
	Profile  Bonus         `json:"profile_complete"`
	Birthday BirthdayBonus `json:"birthday"`
	Referral ReferralBonus `json:"referral"`
}

// PersonalCategories is the offer of categories a member picks for a raised rate.
type PersonalCategories struct {
	Offered []string `json:"offered,omitempty"`
	// Picks is how many of them a member may choose.
	Picks int `json:"picks,omitempty"`
	// Percent is added to the earn rate on lines of a chosen category.
	Percent Percent `json:"percent,omitempty"`
	// ChangeEvery is how often a member may change the choice: month, quarter or year.
	ChangeEvery string `json:"change_every,omitempty"`
}

var Weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// periods a member cap or a choice of categories may count in.
var periods = []string{"day", "week", "month", "quarter", "year"}

// PeriodStart returns the start of the calendar period holding t (in t's zone).
func PeriodStart(period string, t time.Time) time.Time {
	y, m, d := t.Date()
	switch period {
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	case "week": // weeks start on Monday
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-back, 0, 0, 0, 0, t.Location())
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	case "quarter":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, t.Location())
	default:
		return time.Date(y, 1, 1, 0, 0, 0, 0, t.Location())
	}
}

// LocalTime reads a rule's or campaign's time: "2026-12-01T12:00" (or with
// seconds, or a date alone) in loc, or RFC 3339 with its own offset.
func LocalTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf(`must be a local time such as "2026-12-01T12:00" or RFC 3339`)
}

// Clock reads "HH:MM" as minutes after midnight.
func Clock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// PageLimit reads a list's page size: 0 means 50; outside 1 to 200 it adds
// a problem naming "limit".
func PageLimit(pr *Problems, limit int) int {
	switch {
	case limit == 0:
		return 50
	case limit < 1 || limit > 200:
		pr.Add("limit", "must be between 1 and 200")
	}
	return limit
}

func CheckList(pr *Problems, field string, vs []string) {
	for i, v := range vs {
		CheckID(pr, fmt.Sprintf("%s[%d]", field, i), v, true)
	}
}

// validate checks a rule's own fields; compile checks its condition.
func (r *Rule) validate(pr *Problems, f func(string) string) {
	CheckID(pr, f("id"), r.ID, true)
	if strings.HasPrefix(r.ID, "tier:") || r.ID == BaseRuleID || r.ID == PersonalRuleID {
		pr.Add(f("id"), fmt.Sprintf("%q is reserved", r.ID))
	}
	if len(r.Name) > 200 || !CleanText(r.Name) {
		pr.Add(f("name"), "must be at most 200 characters of text")
	}
	if !slices.Contains(ruleKinds, r.Kind) {
		pr.Add(f("kind"), "must be one of "+strings.Join(ruleKinds, ", "))
	}
	positive := func(name string, v, most int64) {
		if v <= 0 || v > most {
			pr.Add(f(name), fmt.Sprintf("must be between 1 and %d", most))
		}
	}
	switch r.Kind {
	case RulePercent:
		if r.Percent <= 0 || r.Percent > 100*PercentScale {
			pr.Add(f("percent"), "must be more than 0 and at most 100")
		}
	case RulePerAmount:
		positive("points", r.Points, 1_000_000)
		positive("per", r.Per, MaxLineAmount)
	case RulePerUnit, RulePerReceipt:
		positive("points", r.Points, 1_000_000)
	case RuleThreshold:
		positive("points", r.Points, 1_000_000)
		positive("threshold", r.Threshold, MaxLineAmount)
	case RuleMultiplier:
		if r.Factor <= QuantityScale || r.Factor > 100*QuantityScale {
			pr.Add(f("factor"), "must be more than 1 and at most 100")
		}
	}
	CheckList(pr, f("categories"), r.Categories)
	CheckList(pr, f("skus"), r.SKUs)
	CheckList(pr, f("stores"), r.Stores)
	CheckList(pr, f("partners"), r.Partners)
	CheckList(pr, f("channels"), r.Channels)
	CheckList(pr, f("tiers"), r.Tiers)
	for i, d := range r.Days {
		if !slices.Contains(Weekdays, d) {
			pr.Add(fmt.Sprintf("%s[%d]", f("days"), i), "must be one of mon, tue, wed, thu, fri, sat, sun")
		}
	}
	if r.Hours != nil {
		if _, ok := Clock(r.Hours.From); !ok {
			pr.Add(f("hours.from"), `must be a time of day such as "08:00"`)
		}
		if _, ok := Clock(r.Hours.To); !ok {
			pr.Add(f("hours.to"), `must be a time of day such as "11:00"`)
		}
	}
	if len(r.Condition) > 4000 {
		pr.Add(f("condition"), "must be at most 4000 characters")
	}
	if r.Priority < -1000 || r.Priority > 1000 {
		pr.Add(f("priority"), "must be between -1000 and 1000")
	}
	CheckID(pr, f("group"), r.Group, false)
	if r.CapPerReceipt < 0 {
		pr.Add(f("cap_per_receipt"), "must not be negative")
	}
	if c := r.CapPerMember; c != nil {
		if c.Points <= 0 {
			pr.Add(f("cap_per_member.points"), "must be more than 0")
		}
		if !slices.Contains(periods, c.Period) {
			pr.Add(f("cap_per_member.period"), "must be one of "+strings.Join(periods, ", "))
		}
	}
	if r.Budget < 0 {
		pr.Add(f("budget"), "must not be negative")
	}
}

// ValidateRules checks everything about the programme's rules that does not
// need compiling: every field, unique ids, known tiers.
func (p *Programme) ValidateRules(pr *Problems) {
	ids := map[string]string{}
	seen := func(field, id string) {
		if prev, ok := ids[id]; ok && id != "" {
			pr.Add(field, fmt.Sprintf("rule id %q is used by %s too", id, prev))
		}
		ids[id] = field
	}
	for i := range p.Rules {
		f := func(n string) string { return fmt.Sprintf("rules[%d].%s", i, n) }
		p.Rules[i].validate(pr, f)
		seen(f("id"), p.Rules[i].ID)
	}
	campaigns := map[string]bool{}
	for i := range p.Campaigns {
		c := &p.Campaigns[i]
		f := func(n string) string { return fmt.Sprintf("campaigns[%d].%s", i, n) }
		CheckID(pr, f("id"), c.ID, true)
		if campaigns[c.ID] {
			pr.Add(f("id"), fmt.Sprintf("campaign id %q appears twice", c.ID))
		}
		campaigns[c.ID] = true
		if len(c.Name) > 200 || !CleanText(c.Name) {
			pr.Add(f("name"), "must be at most 200 characters of text")
		}
		if c.StartsAt == "" {
			pr.Add(f("starts_at"), "is required")
		}
		if c.EndsAt == "" {
			pr.Add(f("ends_at"), "is required")
		}
		if c.Budget < 0 {
			pr.Add(f("budget"), "must not be negative")
		}
		if c.Holdout < 0 || c.Holdout > MaxHoldout {
			pr.Add(f("holdout_percent"), "must be 0 to 50")
		}
		if len(c.Segment) > 4000 {
			pr.Add(f("segment"), "must be at most 4000 characters")
		}
		if len(c.Rules) == 0 {
			pr.Add(f("rules"), "a campaign needs at least one rule")
		}
		for j := range c.Rules {
			g := func(n string) string { return fmt.Sprintf("campaigns[%d].rules[%d].%s", i, j, n) }
			c.Rules[j].validate(pr, g)
			seen(g("id"), c.Rules[j].ID)
		}
	}
	// One limit over every rule of the programme, its campaigns' too.
	total := len(p.Rules)
	for _, c := range p.Campaigns {
		total += len(c.Rules)
	}
	receiptRules := 0
	for _, rs := range append([][]Rule{p.Rules}, campaignRules(p.Campaigns)...) {
		for _, r := range rs {
			if r.Kind == RulePerReceipt || r.Kind == RuleThreshold {
				receiptRules++
			}
		}
	}
	if receiptRules > MaxReceiptRules {
		pr.Add("rules", fmt.Sprintf("a programme may have at most %d receipt rules (per_receipt and threshold), its campaigns' included; this one has %d", MaxReceiptRules, receiptRules))
	}
	if total > MaxRules {
		field := "rules"
		if len(p.Rules) <= MaxRules {
			field = "campaigns"
		}
		pr.Add(field, fmt.Sprintf("a programme may have at most %d rules, its campaigns' included; this one has %d", MaxRules, total))
	}

	s := &p.Spending
	if s.MinBalance < 0 {
		pr.Add("spending.min_balance", "must not be negative")
	}
	if s.CardDailyLimit < 0 {
		pr.Add("spending.card_daily_limit", "must not be negative")
	}
	CheckList(pr, "spending.excluded_categories", s.ExcludedCategories)
	CheckList(pr, "spending.excluded_skus", s.ExcludedSKUs)
	for i, c := range s.Categories {
		CheckID(pr, fmt.Sprintf("spending.categories[%d].category", i), c.Category, true)
		if c.MaxSpend < 0 || c.MaxSpend > 100*PercentScale {
			pr.Add(fmt.Sprintf("spending.categories[%d].max_spend_percent", i), "must be between 0 and 100")
		}
	}

	t := &p.Tiers
	if len(t.Levels) > 0 {
		if t.Basis != "spend" && t.Basis != "points" {
			pr.Add("tiers.basis", `must be "spend" or "points"`)
		}
		switch t.Window {
		case "rolling":
			if t.Months < 1 || t.Months > 36 {
				pr.Add("tiers.months", "a rolling window must be 1 to 36 months")
			}
		case "calendar_year":
		default:
			pr.Add("tiers.window", `must be "rolling" or "calendar_year"`)
		}
	}
	names := map[string]bool{}
	for i, l := range t.Levels {
		f := func(n string) string { return fmt.Sprintf("tiers.levels[%d].%s", i, n) }
		CheckID(pr, f("name"), l.Name, true)
		if names[l.Name] {
			pr.Add(f("name"), "appears twice")
		}
		names[l.Name] = true
		if l.Threshold < 0 || (i > 0 && l.Threshold <= t.Levels[i-1].Threshold) {
			pr.Add(f("threshold"), "thresholds must not be negative and must rise from level to level")
		}
		if l.EarnMultiplier != 0 && (l.EarnMultiplier < QuantityScale || l.EarnMultiplier > 100*QuantityScale) {
			pr.Add(f("earn_multiplier"), "must be between 1 and 100")
		}
		if l.MaxSpend != nil && (*l.MaxSpend < 0 || *l.MaxSpend > 100*PercentScale) {
			pr.Add(f("max_spend_percent"), "must be between 0 and 100")
		}
	}
	check := func(field string, tiers []string) {
		for i, name := range tiers {
			if !names[name] {
				pr.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("no tier is named %q", name))
			}
		}
	}
	for i, r := range p.Rules {
		check(fmt.Sprintf("rules[%d].tiers", i), r.Tiers)
	}
	for i, c := range p.Campaigns {
		for j, r := range c.Rules {
			check(fmt.Sprintf("campaigns[%d].rules[%d].tiers", i, j), r.Tiers)
		}
	}

	b := &p.Bonuses
	for _, x := range []struct {
		field  string
		points int64
		life   Life
	}{
		{"bonuses.welcome", b.Welcome.Points, b.Welcome.Life()},
		{"bonuses.profile_complete", b.Profile.Points, b.Profile.Life()},
		{"bonuses.birthday", b.Birthday.Points, b.Birthday.Life()},
		{"bonuses.referral", max(b.Referral.ReferrerPoints, b.Referral.RefereePoints), b.Referral.Life()},
	} {
		if x.points < 0 || x.points > 1_000_000_000 {
			pr.Add(x.field+".points", "must be between 0 and 1000000000")
		}
		x.life.Check(pr, x.field+".", "expires_days", "expires_months")
	}
	if b.Referral.ReferrerPoints < 0 || b.Referral.RefereePoints < 0 {
		pr.Add("bonuses.referral", "points must not be negative")
	}
	if b.Birthday.DaysBefore < 0 || b.Birthday.DaysBefore > 30 || b.Birthday.DaysAfter < 0 || b.Birthday.DaysAfter > 30 {
		pr.Add("bonuses.birthday", "days_before and days_after must be between 0 and 30")
	}

	pc := &p.Personal
	CheckList(pr, "personal_categories.offered", pc.Offered)
	if len(pc.Offered) > 0 {
		if pc.Picks < 1 || pc.Picks > len(pc.Offered) {
			pr.Add("personal_categories.picks", "must be between 1 and the number of offered categories")
		}
		if pc.Percent <= 0 || pc.Percent > 100*PercentScale {
			pr.Add("personal_categories.percent", "must be more than 0 and at most 100")
		}
		if pc.ChangeEvery != "month" && pc.ChangeEvery != "quarter" && pc.ChangeEvery != "year" {
			pr.Add("personal_categories.change_every", `must be "month", "quarter" or "year"`)
		}
	}
}

// MaxRules is the most rules a programme may have, its campaigns' included.
const MaxRules = 2000

// MaxReceiptRules is the most receipt rules (per_receipt and threshold) a
// programme may have, its campaigns' included: each award lists the lines
// it counted, so they bound the size of an answer.
const MaxReceiptRules = 100

func campaignRules(cs []Campaign) [][]Rule {
	out := make([][]Rule, len(cs))
	for i := range cs {
		out[i] = cs[i].Rules
	}
	return out
}

// Ids of the rules the engine makes from the programme's own settings.
const (
	BaseRuleID     = "base"     // the programme's earn rate, in group "base"
	PersonalRuleID = "personal" // the raised rate on a member's chosen categories
)

// TierProgress is what a member sees of the tiers: where they are and what
// the next tier needs.
type TierProgress struct {
	MemberID string `json:"member_id"`
	Tier     string `json:"tier"`
	Basis    string `json:"basis"`
	Window   string `json:"window"`
	// Qualifying is the spend or points counted in the window so far.
	Qualifying  int64      `json:"qualifying"`
	WindowStart string     `json:"window_start"`
	ReviewAt    *time.Time `json:"review_at,omitempty"`
	// Next is the next tier up, with what it needs and what is left to reach it.
	Next          string `json:"next,omitempty"`
	NextThreshold int64  `json:"next_threshold,omitempty"`
	Needed        int64  `json:"needed,omitempty"`
}
