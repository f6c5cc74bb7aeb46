// Package churn tells which members are slipping away. It fits the BG/NBD
// model ("beta-geometric / negative binomial distribution") of a
// non-contractual customer base to the members' purchase histories by
// maximum likelihood, and from it gives each member's probability of still
// being an active customer and the number of purchases to expect in the
// next days. The model and its formulas are those of P. S. Fader, B. G. S.
// Hardie and K. L. Lee, "'Counting Your Customers' the Easy Way: An
// Alternative to the Pareto/NBD Model", Marketing Science 24(2), 2005,
// 275–284 (equations 6, 10 and the appendix's P(alive)), and of Fader and
// Hardie's note "Computing P(alive) Using the BG/NBD Model" (2008). It is
// pure computation: no storage and no HTTP.
package churn

import (
	"errors"
	"math"
)

// History is one member's purchases as the model reads them, in a time
// unit of the caller's choosing (weeks, in the paper and here): X is the
// number of repeat purchases (purchases after the first, several on one
// day counting as one), TX the time of the last purchase after the first,
// and T the time from the first purchase to the end of the period
// observed (0 ≤ TX ≤ T; TX = 0 when X = 0).
type History struct {
	X     int
	TX, T float64
}

// Params are the model's four parameters: purchases follow a Poisson
// process whose rate is gamma-distributed across members (shape R, scale
// Alpha); after each purchase a member drops out with a probability that
// is beta-distributed across members (A, B). All are positive.
type Params struct {
	R, Alpha, A, B float64
}

// LogLikelihood is the sum over the histories of the log of the BG/NBD
// likelihood of one member (the paper's equation 6):
//
//	L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
//	  + [x > 0] B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))
//
// computed in logarithms, so that large x and T do not overflow.
func LogLikelihood(p Params, hs []History) float64 {
	lgr, _ := math.Lgamma(p.R)
	lbab := lbeta(p.A, p.B)
	var sum float64
	for _, h := range hs {
		x := float64(h.X)
		lgrx, _ := math.Lgamma(p.R + x)
		common := lgrx - lgr + p.R*math.Log(p.Alpha)
		first := lbeta(p.A, p.B+x) - lbab - (p.R+x)*math.Log(p.Alpha+h.T)
		ll := first
		if h.X > 0 {
			second := lbeta(p.A+1, p.B+x-1) - lbab - (p.R+x)*math.Log(p.Alpha+h.TX)
			ll = logAddExp(first, second)
		}
		sum += common + ll
	}
	return sum
}

// lbeta is ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b).
func lbeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// logAddExp is ln(e^a + e^b) without overflow.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// ErrNoData is returned by Fit for histories that cannot be fitted: none,
// or none with a repeat purchase.
var ErrNoData = errors.New("churn: the histories hold no repeat purchase to fit the model to")

// Fit finds the parameters of largest likelihood for the histories, by the
// Nelder–Mead simplex method over the parameters' logarithms (so that
// they stay positive), from r = α = a = b = 1, until the simplex's values
// differ by less than 1e-10 or after 5,000 steps. It returns the
// parameters and the log-likelihood there.
func Fit(hs []History) (Params, float64, error) {
	repeat := false
	for _, h := range hs {
		if h.X > 0 {
			repeat = true
			break
		}
	}
	if len(hs) == 0 || !repeat {
		return Params{}, 0, ErrNoData
	}
	f := func(v [4]float64) float64 {
		p := Params{R: math.Exp(v[0]), Alpha: math.Exp(v[1]), A: math.Exp(v[2]), B: math.Exp(v[3])}
		ll := LogLikelihood(p, hs)
		if math.IsNaN(ll) || math.IsInf(ll, 0) {
			return math.Inf(1)
		}
		return -ll
	}
	best, val := nelderMead(f, [4]float64{0, 0, 0, 0}, 5000, 1e-10)
	return Params{R: math.Exp(best[0]), Alpha: math.Exp(best[1]), A: math.Exp(best[2]), B: math.Exp(best[3])}, -val, nil
}

// nelderMead minimises f from x0 with the standard coefficients
// (reflection 1, expansion 2, contraction ½, shrink ½) and a first simplex
// of steps of 0.5 along each axis.
func nelderMead(f func([4]float64) float64, x0 [4]float64, maxIter int, tol float64) ([4]float64, float64) {
	const n = 4
	var pts [n + 1][4]float64
	var vals [n + 1]float64
	pts[0] = x0
	for i := 1; i <= n; i++ {
		pts[i] = x0
		pts[i][i-1] += 0.5
	}
	for i := range pts {
		vals[i] = f(pts[i])
	}
	order := func() {
		for i := 1; i <= n; i++ { // insertion sort, n+1 points
			for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
				vals[j], vals[j-1] = vals[j-1], vals[j]
				pts[j], pts[j-1] = pts[j-1], pts[j]
			}
		}
	}
	along := func(c, p [4]float64, t float64) (q [4]float64) {
		for k := range q {
			q[k] = c[k] + t*(p[k]-c[k])
		}
		return q
	}
	for iter := 0; iter < maxIter; iter++ {
		order()
		if math.Abs(vals[n]-vals[0]) < tol*(1+math.Abs(vals[0])) {
			break
		}
		var c [4]float64 // the centroid of all but the worst
		for i := 0; i < n; i++ {
			for k := range c {
				c[k] += pts[i][k] / n
			}
		}
		r := along(c, pts[n], -1)
		fr := f(r)
		switch {
		case fr < vals[0]:
			if e := along(c, pts[n], -2); f(e) < fr {
				pts[n], vals[n] = e, f(e)
			} else {
				pts[n], vals[n] = r, fr
			}
		case fr < vals[n-1]:
			pts[n], vals[n] = r, fr
		default:
			k := along(c, pts[n], 0.5)
			if fr < vals[n] {
				k = along(c, r, 0.5)
			}
			if fk := f(k); fk < math.Min(fr, vals[n]) {
				pts[n], vals[n] = k, fk
				continue
			}
			for i := 1; i <= n; i++ { // shrink toward the best
				pts[i] = along(pts[0], pts[i], 0.5)
				vals[i] = f(pts[i])
			}
		}
	}
	order()
	return pts[0], vals[0]
}

// PAlive is the probability that a member with history h is still an
// active customer at the end of the period observed (Fader, Hardie and
// Lee 2005, equation 11; 1 for a member with no repeat purchase, who by
// the model has not yet had a chance to drop out):
//
//	P(alive) = 1 / (1 + [x > 0] a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
func (p Params) PAlive(h History) float64 {
	if h.X == 0 {
		return 1
	}
	x := float64(h.X)
	lr := math.Log(p.A/(p.B+x-1)) + (p.R+x)*math.Log((p.Alpha+h.T)/(p.Alpha+h.TX))
	return 1 / (1 + math.Exp(lr))
}

// ExpectedPurchases is the number of purchases to expect from a member with
// history h in the next t time units (Fader, Hardie and Lee 2005, equation
// 10), with the Gauss hypergeometric function ₂F₁ summed as its series.
func (p Params) ExpectedPurchases(h History, t float64) float64 {
	x := float64(h.X)
	z := t / (p.Alpha + h.T + t)
	hyp := hyp2f1(p.R+x, p.B+x, p.A+p.B+x-1, z)
	num := (p.A + p.B + x - 1) / (p.A - 1) * (1 - math.Pow((p.Alpha+h.T)/(p.Alpha+h.T+t), p.R+x)*hyp)
	den := 1.0
	if h.X > 0 {
		den += p.A / (p.B + x - 1) * math.Pow((p.Alpha+h.T)/(p.Alpha+h.TX), p.R+x)
	}
	return num / den
}

// hyp2f1 sums the series of ₂F₁(a, b; c; z) for 0 ≤ z < 1 until a term
// adds less than 1e-15 of the sum (at most 100,000 terms).
func hyp2f1(a, b, c, z float64) float64 {
	sum, term := 1.0, 1.0
	for j := 0; j < 100_000; j++ {
		fj := float64(j)
		term *= (a + fj) * (b + fj) / ((c + fj) * (fj + 1)) * z
		sum += term
		if math.Abs(term) < 1e-15*math.Abs(sum) {
			break
		}
	}
	return sum
}
