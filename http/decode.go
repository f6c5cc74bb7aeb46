package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

// decode reads one JSON value from the body into v, refusing unknown fields:
// a misspelt "amout" must fail loudly, not be read as zero.
func decode(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads the whole body; over the size limit it is ETOOLARGE.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	return body, nil
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return kopilka.Errorf(kopilka.EMALFORMED, "the request needs a JSON body")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var dec *kopilka.DecimalError
		if errors.As(err, &dec) {
			// encoding/json does not say where: find the field.
			if field, detail, ok := findDecimal(body, reflect.TypeOf(v)); ok {
				return kopilka.Invalid(field, detail)
			}
			return kopilka.Invalid("body", dec.Detail)
		}
		return jsonError(err)
	}
	// Only white space may follow the value (d.More is false before a stray "]" or "}").
	if len(bytes.TrimSpace(body[d.InputOffset():])) > 0 {
		return jsonError(errTrailing)
	}
	return nil
}

// receiptJSON is the wire form of a receipt; pointers tell a missing field
// from a zero one.
type receiptJSON struct {
	ReceiptID   *string            `json:"receipt_id"`
	StoreID     *string            `json:"store_id"`
	CardNumber  *string            `json:"card_number"`
	MemberID    *string            `json:"member_id"`
	OccurredAt  *string            `json:"occurred_at"`
	Lines       *[]json.RawMessage `json:"lines"`
	SpendPoints *int64             `json:"spend_points"`
	SpendMode   *string            `json:"spend_mode"`
	Channel     *string            `json:"channel"`
	Total       *int64             `json:"total"`
}

type lineJSON struct {
	Line     *int            `json:"line"`
	SKU      *string         `json:"sku"`
	Category *string         `json:"category"`
	Quantity json.RawMessage `json:"quantity"`
	Price    *int64          `json:"price"`
	Amount   *int64          `json:"amount"`
}

// DecodeReceipt reads a receipt from JSON and reports every missing or
// mistyped field by its path. Checks of values are Receipt.Validate's.
func DecodeReceipt(body []byte) (kopilka.Receipt, error) {
	var in receiptJSON
	if err := decodeBytes(body, &in); err != nil {
		return kopilka.Receipt{}, err
	}
	var pr kopilka.Problems
	r := kopilka.Receipt{Total: in.Total}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if in.ReceiptID == nil {
		pr.Add("receipt_id", "is required")
	}
	if in.StoreID == nil {
		pr.Add("store_id", "is required")
	}
	r.ReceiptID, r.StoreID, r.CardNumber, r.MemberID = str(in.ReceiptID), str(in.StoreID), str(in.CardNumber), str(in.MemberID)
	r.SpendMode, r.Channel = str(in.SpendMode), str(in.Channel)
	if in.SpendPoints != nil {
		r.SpendPoints = *in.SpendPoints
	}
	if in.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.OccurredAt)
		if err != nil {
			pr.Add("occurred_at", "must be an RFC 3339 time such as 2026-11-23T10:15:00+03:00")
		}
		r.OccurredAt = t
	}
	if in.Lines == nil {
		pr.Add("lines", "is required")
	} else {
		for i, raw := range *in.Lines {
			f := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
			var l lineJSON
			if err := decodeBytes(raw, &l); err != nil {
				// Name the line: "lines[2].price", not Go's "lines.price".
				var e *kopilka.Error
				if !errors.As(err, &e) || len(e.Fields) == 0 {
					pr.Add(fmt.Sprintf("lines[%d]", i), "must be an object with line, sku, quantity, price and amount")
					continue
				}
				for _, fe := range e.Fields {
					if fe.Field == "body" {
						pr.Add(fmt.Sprintf("lines[%d]", i), fe.Detail)
					} else {
						pr.Add(f(fe.Field), fe.Detail)
					}
				}
				continue
			}
			var line kopilka.Line
			if l.Line == nil {
				pr.Add(f("line"), "is required")
			} else {
				line.Line = *l.Line
			}
			if l.SKU == nil {
				pr.Add(f("sku"), "is required")
			} else {
				line.SKU = *l.SKU
			}
			line.Category = str(l.Category)
			if l.Quantity == nil {
				pr.Add(f("quantity"), "is required")
			} else if err := line.Quantity.UnmarshalJSON(l.Quantity); err != nil {
				pr.Add(f("quantity"), err.Error())
			}
			if l.Price == nil {
				pr.Add(f("price"), "is required")
			} else {
				line.Price = *l.Price
			}
			if l.Amount == nil {
				pr.Add(f("amount"), "is required")
			} else {
				line.Amount = *l.Amount
			}
			r.Lines = append(r.Lines, line)
		}
	}
	return r, pr.Err()
}

// refundJSON is the wire form of a refund request.
type refundJSON struct {
	RefundID *string          `json:"refund_id"`
	Lines    []refundLineJSON `json:"lines"`
}

type refundLineJSON struct {
	Line     *int            `json:"line"`
	Quantity json.RawMessage `json:"quantity"`
}

// decodeRefund reads a refund request, naming the field at fault.
func decodeRefund(body []byte) (kopilka.RefundRequest, error) {
	var in refundJSON
	if err := decodeBytes(body, &in); err != nil {
		return kopilka.RefundRequest{}, err
	}
	var pr kopilka.Problems
	var req kopilka.RefundRequest
	if in.RefundID == nil {
		pr.Add("refund_id", "is required")
	} else {
		req.RefundID = *in.RefundID
	}
	for i, l := range in.Lines {
		var rl kopilka.RefundLine
		if l.Line == nil {
			pr.Add(fmt.Sprintf("lines[%d].line", i), "is required")
		} else {
			rl.Line = *l.Line
		}
		if l.Quantity != nil && string(l.Quantity) != "null" {
			var q kopilka.Quantity
			if err := q.UnmarshalJSON(l.Quantity); err != nil {
				pr.Add(fmt.Sprintf("lines[%d].quantity", i), err.Error())
			}
			rl.Quantity = &q
		}
		req.Lines = append(req.Lines, rl)
	}
	return req, pr.Err()
}

// programmeJSON is the wire form of the programme settings; absent fields
// keep their current values.
type programmeJSON struct {
	CurrencyName     *string         `json:"currency_name"`
	PointValue       *int64          `json:"point_value"`
	EarnRate         json.RawMessage `json:"earn_rate_percent"`
	MaxSpend         json.RawMessage `json:"max_spend_percent"`
	PendingDays      *int            `json:"pending_days"`
	ExpiryMonths     *int            `json:"expiry_months"`
	ExpiryDays       *int            `json:"expiry_days"`
	Rounding         *string         `json:"rounding"`
	ExpiringSoonDays *int            `json:"expiring_soon_days"`
	MaxReceiptAge    *int            `json:"max_receipt_age_hours"`
	MaxReceiptPoints *int64          `json:"max_receipt_points"`
	MaxBalance       *int64          `json:"max_balance"`
	TimeZone         *string         `json:"time_zone"`
	// The rules' sections, each replaced whole when given.
	Rules     *[]kopilka.Rule             `json:"rules"`
	Spending  *kopilka.SpendRules         `json:"spending"`
	Tiers     *kopilka.TierPlan           `json:"tiers"`
	Campaigns *[]kopilka.Campaign         `json:"campaigns"`
	Bonuses   *kopilka.Bonuses            `json:"bonuses"`
	Personal  *kopilka.PersonalCategories `json:"personal_categories"`
	UpdatedAt json.RawMessage             `json:"updated_at"` // ignored: echoing a GET back is fine
}

func (in programmeJSON) apply(p *kopilka.Programme) error {
	var pr kopilka.Problems
	if in.CurrencyName != nil {
		p.CurrencyName = *in.CurrencyName
	}
	if in.PointValue != nil {
		p.PointValue = *in.PointValue
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *kopilka.Percent
	}{{"earn_rate_percent", in.EarnRate, &p.EarnRate}, {"max_spend_percent", in.MaxSpend, &p.MaxSpend}} {
		if f.raw != nil {
			if err := f.dst.UnmarshalJSON(f.raw); err != nil {
				pr.Add(f.name, err.Error())
			}
		}
	}
	if in.PendingDays != nil {
		p.PendingDays = *in.PendingDays
	}
	if in.ExpiryMonths != nil {
		p.ExpiryMonths = *in.ExpiryMonths
	}
	if in.ExpiryDays != nil {
		p.ExpiryDays = *in.ExpiryDays
	}
	// A life given one way replaces the other, unless both are given.
	if in.ExpiryDays != nil && *in.ExpiryDays != 0 && in.ExpiryMonths == nil {
		p.ExpiryMonths = 0
	}
	if in.ExpiryMonths != nil && *in.ExpiryMonths != 0 && in.ExpiryDays == nil {
		p.ExpiryDays = 0
	}
	if in.Rounding != nil {
		p.Rounding = kopilka.Rounding(*in.Rounding)
	}
	if in.ExpiringSoonDays != nil {
		p.ExpiringSoonDays = *in.ExpiringSoonDays
	}
	if in.MaxReceiptAge != nil {
		p.MaxReceiptAgeHours = *in.MaxReceiptAge
	}
	if in.MaxReceiptPoints != nil {
		p.MaxReceiptPoints = *in.MaxReceiptPoints
	}
	if in.MaxBalance != nil {
		p.MaxBalance = *in.MaxBalance
	}
	if in.TimeZone != nil {
		p.TimeZone = *in.TimeZone
	}
	if in.Rules != nil {
		p.Rules = *in.Rules
	}
	if in.Spending != nil {
		p.Spending = *in.Spending
	}
	if in.Tiers != nil {
		p.Tiers = *in.Tiers
	}
	if in.Campaigns != nil {
		p.Campaigns = *in.Campaigns
	}
	if in.Bonuses != nil {
		p.Bonuses = *in.Bonuses
	}
	if in.Personal != nil {
		p.Personal = *in.Personal
	}
	return pr.Err()
}

// decodeOptional decodes a body that may be empty.
func decodeOptional(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil
	}
	return decodeBytes(body, v)
}

// queryInt reads an integer query parameter (def when absent).
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, kopilka.Invalid(name, "must be an integer")
	}
	return n, nil
}

func queryFloat(r *http.Request, name string) (float64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, kopilka.Invalid(name, "is required")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, kopilka.Invalid(name, "must be a number of degrees")
	}
	return f, nil
}

var (
	quantityType = reflect.TypeFor[kopilka.Quantity]()
	percentType  = reflect.TypeFor[kopilka.Percent]()
	rawType      = reflect.TypeFor[json.RawMessage]()
)

// findDecimal finds the first decimal field (Quantity, Percent) of body, read
// as a value of type t, that does not parse, and returns its JSON path
// ("tiers.levels[0].earn_multiplier") and what is wrong with it.
func findDecimal(body []byte, t reflect.Type) (field, detail string, ok bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return "", "", false
	}
	return walkDecimal(t, v, "")
}

func walkDecimal(t reflect.Type, v any, path string) (string, string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || t == rawType {
		return "", "", false
	}
	if t == quantityType || t == percentType {
		s, isString := v.(string)
		if !isString {
			if n, isNumber := v.(json.Number); isNumber {
				s = n.String()
			} else {
				return path, "must be a decimal number such as \"2\" or \"0.455\"", true
			}
		}
		var err error
		if t == quantityType {
			_, err = kopilka.ParseQuantity(s)
		} else {
			_, err = kopilka.ParsePercent(s)
		}
		return path, fmt.Sprint(err), err != nil
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch t.Kind() {
	case reflect.Struct:
		m, isObject := v.(map[string]any)
		if !isObject {
			return "", "", false
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				if p, detail, ok := walkDecimal(f.Type, v, path); ok {
					return p, detail, ok
				}
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			for k, x := range m { // encoding/json matches names in any case
				if strings.EqualFold(k, name) {
					if p, detail, ok := walkDecimal(f.Type, x, join(k)); ok {
						return p, detail, ok
					}
				}
			}
		}
	case reflect.Slice, reflect.Array:
		a, isArray := v.([]any)
		if !isArray {
			return "", "", false
		}
		for i, x := range a {
			if p, detail, ok := walkDecimal(t.Elem(), x, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, detail, ok
			}
		}
	case reflect.Map:
		m, isObject := v.(map[string]any)
		if !isObject {
			return "", "", false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, detail, ok := walkDecimal(t.Elem(), m[k], join(k)); ok {
				return p, detail, ok
			}
		}
	}
	return "", "", false
}

// decodeChange decodes a PUT's or a PATCH's body into v and returns the
// JSON names it carried (in lower case: encoding/json matches names in any
// case), for a kopilka.Change.
func decodeChange(r *http.Request, v any, patch bool) (kopilka.Change, error) {
	body, err := readBody(r)
	if err != nil {
		return kopilka.Change{}, err
	}
	if err := decodeBytes(body, v); err != nil {
		return kopilka.Change{}, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return kopilka.Change{}, kopilka.Errorf(kopilka.EMALFORMED, "the body must be a JSON object")
	}
	sent := make(map[string]bool, len(members))
	for k := range members {
		sent[strings.ToLower(k)] = true
	}
	return kopilka.Change{Sent: sent, Patch: patch}, nil
}
