package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/reports"
)

// analyticsCmd prints the analytics of a span as text tables (report) or
// tags members with their segment and risk (refresh).
func analyticsCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "report" && args[0] != "refresh") {
		return errors.New("usage: kopilka analytics report [-from 2011-01-01] [-to 2011-12-09] | kopilka analytics refresh")
	}
	sub := args[0]
	var c config
	var from, to string
	var top int
	fs := newFlags("analytics "+sub, &c)
	fs.StringVar(&from, "from", "", "the span's first day, YYYY-MM-DD (default: a year before -to)")
	fs.StringVar(&to, "to", "", "the span's last day, YYYY-MM-DD, included (default: today)")
	fs.IntVar(&top, "top", 10, "rows of the lists (most at risk, basket rules)")
	var support, confidence float64
	fs.Float64Var(&support, "support", 0.01, "the basket rules' least support (share of baskets)")
	fs.Float64Var(&confidence, "confidence", 0.5, "the basket rules' least confidence")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newService(db, c)
	ctx = kopilka.NewContextWithPrincipal(ctx, kopilka.System("command line"))
	if sub == "refresh" {
		r, err := svc.Reports.Refresh(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "scored %d members, changed the tags of %d; %d at risk, %d newly\n", r.Scored, r.Changed, r.AtRisk, r.NewRisk)
		return nil
	}
	eng, err := svc.Programme.Engine(ctx)
	if err != nil {
		return err
	}
	end := svc.Env.Time()
	if to != "" {
		d, err := time.ParseInLocation(time.DateOnly, to, eng.Loc)
		if err != nil {
			return fmt.Errorf("analytics: -to %q is not YYYY-MM-DD", to)
		}
		end = d.AddDate(0, 0, 1)
	}
	start := end.AddDate(-1, 0, 0)
	if from != "" {
		if start, err = time.ParseInLocation(time.DateOnly, from, eng.Loc); err != nil {
			return fmt.Errorf("analytics: -from %q is not YYYY-MM-DD", from)
		}
	}
	k, err := svc.Reports.KPIs(ctx, reports.KPIQuery{From: start, To: end, Bucket: reports.Month})
	if err != nil {
		return err
	}
	t := k.Total
	fmt.Fprintf(out, "%s to %s: %d purchases by %d members (%d in all), turnover %s, average receipt %s, repeat rate %.1f %%\n\n",
		start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly), t.Purchases, t.ActiveMembers, t.Members,
		money(t.Turnover), money(t.AverageReceipt), t.RepeatRate)

	co, err := svc.Reports.Cohorts(ctx, start, end)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Retention: members by month of first purchase, % active in each month after")
	fmt.Fprintf(out, "%-8s %5s", "cohort", "size")
	for i := 1; i < len(co.Rows); i++ {
		fmt.Fprintf(out, " %4s", fmt.Sprintf("+%d", i))
	}
	fmt.Fprintln(out)
	for _, r := range co.Rows {
		fmt.Fprintf(out, "%-8s %5d", r.Month, r.Size)
		for _, p := range r.Percent[1:] {
			fmt.Fprintf(out, " %4.0f", p)
		}
		fmt.Fprintln(out)
	}

	rfm, err := svc.Reports.RFM(ctx, start, end)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nRFM segments of the %d members who bought\n", rfm.Members)
	fmt.Fprintf(out, "%-20s %7s %6s %8s %6s %12s\n", "segment", "members", "%", "recency", "orders", "money")
	for _, s := range rfm.Segments {
		fmt.Fprintf(out, "%-20s %7d %6.1f %6d d %6d %12s\n", s.Name, s.Members, s.Percent, s.RecencyDays, s.Frequency, money(s.Monetary))
	}

	ch, err := svc.Reports.Churn(ctx, reports.ChurnQuery{At: end, Limit: top})
	if err != nil && kopilka.ErrorCode(err) != kopilka.ESTATE {
		return err
	}
	if err == nil {
		p := ch.Params
		fmt.Fprintf(out, "\nChurn risk: BG/NBD r=%.3f α=%.3f a=%.3f b=%.3f (log-likelihood %.1f); %d of %d members at risk\n",
			p.R, p.Alpha, p.A, p.B, ch.LogLikelihood, ch.AtRisk, ch.Members)
		fmt.Fprintf(out, "%-24s %8s %6s %6s %10s %12s\n", "member", "P(alive)", "days", "since", "usual gap", "money")
		for _, r := range ch.Risks {
			who := r.Ref
			if who == "" {
				who = r.MemberID
			}
			fmt.Fprintf(out, "%-24s %8.3f %6d %4d d %8.1f d %12s\n", who, r.PAlive, r.Days, r.DaysSince, r.UsualGapDays, money(r.Money))
		}
	}
	br, err := svc.Reports.BasketRules(ctx, reports.BasketQuery{From: start, To: end, MinSupport: support, MinConfidence: confidence, Limit: top})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nBasket rules: %d baskets, %d itemsets at support %g, %d rules at confidence %g; the most confident\n",
		br.Baskets, br.Itemsets, support, br.Total, confidence)
	name := func(sku string) string {
		if n := br.Names[sku]; n != "" {
			return strings.ToLower(n)
		}
		return sku
	}
	fmt.Fprintf(out, "%8s %10s %6s  %s\n", "support", "confidence", "lift", "rule")
	for _, r := range br.Rules {
		var ifs []string
		for _, sku := range r.If {
			ifs = append(ifs, name(sku))
		}
		fmt.Fprintf(out, "%8.4f %10.3f %6.2f  %s → %s\n", r.Support, r.Confidence, r.Lift, strings.Join(ifs, " + "), name(r.Then))
	}
	return nil
}
