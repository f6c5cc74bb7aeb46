package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
)

// The receipt tester: a receipt typed or pasted for a member's card, priced
// line by line against the live programme and, when a draft rule came with
// it (from the rule's form), against the programme with that rule too, so
// that a change is seen before anyone switches it on.

// testerInput is the tester's form: the card, the store, the points the
// member asks to spend, and the lines, one per row as
// "sku; category; quantity; price" (price in roubles, 149.90).
type testerInput struct {
	Card, Store, Lines, Spend, Draft string
}

func (s *Site) testerPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	in := testerInput{Lines: "milk-1l; dairy; 2; 89.90\ncoffee-250; coffee; 1; 459.00", Spend: "0"}
	if r.Method == http.MethodPost {
		f := r.PostForm
		in = testerInput{Card: f.Get("card"), Store: f.Get("store"), Lines: f.Get("lines"), Spend: f.Get("spend"), Draft: f.Get("draft")}
	}
	data := map[string]any{"In": in}
	if r.Method == http.MethodPost && r.PostForm.Get("run") != "" {
		var draft *kopilka.Programme
		var rule kopilka.Rule
		if in.Draft != "" {
			if err := json.Unmarshal([]byte(in.Draft), &rule); err != nil {
				return kopilka.Invalid("draft", "is not a rule this site sent")
			}
			p, err := s.App.Programme.Draft(r.Context(), rule)
			if err != nil {
				return err
			}
			draft, data["DraftRule"] = &p, rule.ID
		}
		rc, err := in.receipt()
		if err == nil {
			var live kopilka.Quote
			var drafted *kopilka.Quote
			if live, drafted, err = s.App.Purchases.TestReceipt(r.Context(), rc, draft); err == nil {
				data["Live"], data["Draft"], data["Receipt"] = live, drafted, rc
			}
		}
		switch probs := problemsOf(err); {
		case probs != nil:
			data["Problems"] = probs
		case err == nil:
		case slices.Contains([]kopilka.Code{kopilka.ENOTFOUND, kopilka.EUNKNOWNCARD, kopilka.EBLOCKEDCARD, kopilka.ESTORECLOSED, kopilka.EINSUFFICIENT, kopilka.ECONFLICT}, kopilka.ErrorCode(err)):
			var e *kopilka.Error
			errors.As(err, &e)
			data["Problems"] = []kopilka.FieldError{{Detail: e.Message}}
		default:
			return err
		}
	} else if r.Method == http.MethodPost {
		// From a rule's form: the draft rule comes along, the receipt is still to type.
		rule, err := s.ruleFromForm(r)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(rule)
		in.Draft, data["DraftRule"] = string(b), rule.ID
		in.Lines, in.Spend = "milk-1l; dairy; 2; 89.90\ncoffee-250; coffee; 1; 459.00", "0"
		data["In"] = in
	}
	s.render(w, r, http.StatusOK, "tester", Office, q.T("Receipt tester"), data)
	return nil
}

// receipt makes the receipt of the form, naming the row at fault.
func (in testerInput) receipt() (kopilka.Receipt, error) {
	r := kopilka.Receipt{ReceiptID: "test", StoreID: strings.TrimSpace(in.Store), CardNumber: strings.TrimSpace(in.Card)}
	var pr kopilka.Problems
	if n, err := strconv.ParseInt(strings.TrimSpace(in.Spend), 10, 64); err == nil && n >= 0 {
		r.SpendPoints = n
	} else if strings.TrimSpace(in.Spend) != "" {
		pr.Add("spend", "must be a whole number of points")
	}
	rows := strings.Split(strings.ReplaceAll(in.Lines, "\r", ""), "\n")
	if len(rows) > kopilka.MaxLines {
		pr.Add("lines", "has more rows than a receipt takes")
		return r, pr.Err()
	}
	for i, row := range rows {
		if strings.TrimSpace(row) == "" {
			continue
		}
		parts := strings.Split(row, ";")
		if len(parts) != 4 {
			pr.Add("lines", "row "+strconv.Itoa(i+1)+": write sku; category; quantity; price")
			continue
		}
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		qty, err := kopilka.ParseQuantity(decimal(parts[2]))
		if err != nil {
			pr.Add("lines", "row "+strconv.Itoa(i+1)+": the quantity must be a number, such as 2 or 0.455")
			continue
		}
		price, err := parseRoubles(parts[3])
		if err != nil {
			pr.Add("lines", "row "+strconv.Itoa(i+1)+": the price must be roubles and kopecks, such as 149.90")
			continue
		}
		amount, rest, ok := kopilka.MulDiv(int64(qty), price, kopilka.QuantityScale)
		if rest*2 >= kopilka.QuantityScale {
			amount++
		}
		if !ok {
			pr.Add("lines", "row "+strconv.Itoa(i+1)+": the amount is too large")
			continue
		}
		r.Lines = append(r.Lines, kopilka.Line{Line: len(r.Lines) + 1, SKU: parts[0], Category: parts[1], Quantity: qty, Price: price, Amount: amount})
	}
	if err := pr.Err(); err != nil {
		return r, err
	}
	return r, nil
}

// parseRoubles reads an amount of roubles ("149.90", "149,9", "150") as
// kopecks.
func parseRoubles(v string) (int64, error) {
	whole, frac, _ := strings.Cut(decimal(v), ".")
	if len(frac) > 2 || whole == "" || strings.ContainsAny(whole+frac, "+-") {
		return 0, kopilka.Invalid("price", "must be roubles and kopecks")
	}
	frac += strings.Repeat("0", 2-len(frac))
	r, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || r < 0 || r > 1_000_000_000 {
		return 0, kopilka.Invalid("price", "must be roubles and kopecks")
	}
	k, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || k < 0 {
		return 0, kopilka.Invalid("price", "must be roubles and kopecks")
	}
	return r*100 + k, nil
}
