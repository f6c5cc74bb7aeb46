package programme

import (
	"context"
	"slices"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/pricing"
)

// PutRule adds a programme rule or replaces the one with the same id.
func (s *Service) PutRule(ctx context.Context, r kopilka.Rule) (kopilka.Programme, error) {
	return s.update(ctx, r.ID, func(p *kopilka.Programme) error {
		if i := slices.IndexFunc(p.Rules, func(x kopilka.Rule) bool { return x.ID == r.ID }); i >= 0 {
			p.Rules[i] = r
		} else {
			p.Rules = append(p.Rules, r)
		}
		return nil
	})
}

// AddRule adds a rule whose id no rule has (ECONFLICT naming id if one
// does): a form for a new rule never replaces an old one.
func (s *Service) AddRule(ctx context.Context, r kopilka.Rule) (kopilka.Programme, error) {
	return s.update(ctx, r.ID, func(p *kopilka.Programme) error {
		if slices.ContainsFunc(p.Rules, func(x kopilka.Rule) bool { return x.ID == r.ID }) {
			return kopilka.FieldErr(kopilka.ECONFLICT, "id", "a rule has this id already")
		}
		p.Rules = append(p.Rules, r)
		return nil
	})
}

// AddCampaign adds a campaign whose id no campaign has (ECONFLICT naming id
// if one does).
func (s *Service) AddCampaign(ctx context.Context, c kopilka.Campaign) (kopilka.Programme, error) {
	return s.update(ctx, c.ID, func(p *kopilka.Programme) error {
		if slices.ContainsFunc(p.Campaigns, func(x kopilka.Campaign) bool { return x.ID == c.ID }) {
			return kopilka.FieldErr(kopilka.ECONFLICT, "id", "a campaign has this id already")
		}
		p.Campaigns = append(p.Campaigns, c)
		return nil
	})
}

// Draft is the live programme with the rule added or put in place of the
// one with its id: what a change would make, for checking, testing and
// simulating it before it is saved. It changes nothing.
func (s *Service) Draft(ctx context.Context, r kopilka.Rule) (kopilka.Programme, error) {
	if err := access.Allow(ctx, access.ProgrammeRead); err != nil {
		return kopilka.Programme{}, err
	}
	e, err := s.Engine(ctx)
	if err != nil {
		return kopilka.Programme{}, err
	}
	p := e.Programme
	p.Rules = slices.Clone(p.Rules)
	if i := slices.IndexFunc(p.Rules, func(x kopilka.Rule) bool { return x.ID == r.ID }); i >= 0 {
		p.Rules[i] = r
	} else {
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

// CheckRule checks a rule as the programme would take it, the live
// programme's other rules and limits included, without saving it: nil, or
// EINVALID naming the field (rules[i].condition, with the line and column
// of a condition's error).
func (s *Service) CheckRule(ctx context.Context, r kopilka.Rule) error {
	p, err := s.Draft(ctx, r)
	if err != nil {
		return err
	}
	return pricing.Validate(p)
}

// DeleteRule removes a programme rule.
func (s *Service) DeleteRule(ctx context.Context, id string) (kopilka.Programme, error) {
	return s.update(ctx, id, func(p *kopilka.Programme) error {
		i := slices.IndexFunc(p.Rules, func(x kopilka.Rule) bool { return x.ID == id })
		if i < 0 {
			return kopilka.Errorf(kopilka.ENOTFOUND, "no rule has id %q", id)
		}
		p.Rules = slices.Delete(p.Rules, i, i+1)
		return nil
	})
}

// PutCampaign adds a campaign or replaces the one with the same id.
func (s *Service) PutCampaign(ctx context.Context, c kopilka.Campaign) (kopilka.Programme, error) {
	return s.update(ctx, c.ID, func(p *kopilka.Programme) error {
		p.Campaigns = withCampaign(p.Campaigns, c)
		return nil
	})
}

func withCampaign(cs []kopilka.Campaign, c kopilka.Campaign) []kopilka.Campaign {
	cs = slices.Clone(cs)
	if i := slices.IndexFunc(cs, func(x kopilka.Campaign) bool { return x.ID == c.ID }); i >= 0 {
		cs[i] = c
		return cs
	}
	return append(cs, c)
}

// DeleteCampaign removes a campaign.
func (s *Service) DeleteCampaign(ctx context.Context, id string) (kopilka.Programme, error) {
	return s.update(ctx, id, func(p *kopilka.Programme) error {
		i := slices.IndexFunc(p.Campaigns, func(x kopilka.Campaign) bool { return x.ID == id })
		if i < 0 {
			return kopilka.Errorf(kopilka.ENOTFOUND, "no campaign has id %q", id)
		}
		p.Campaigns = slices.Delete(p.Campaigns, i, i+1)
		return nil
	})
}
