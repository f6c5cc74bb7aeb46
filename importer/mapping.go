package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

// Mapping says how a file of receipt lines becomes Kopilka's receipts. It
// is read from a small JSON file (LoadMapping) or taken from Ready, and
// flags of the command override its fields.
//
// A column is named by a Spec: the header's name ("InvoiceNo"); "#3", the
// third field, for a file without a header; "a+b", the fields a and b
// joined by "-" (CDNOW's receipt is its customer and day); or "=text", the
// text itself for every row (a store id, a SKU).
type Mapping struct {
	// Name names the mapping and, unless Source is set, the source whose
	// customer ids become members (member_refs.source).
	Name string `json:"name"`
	// Format is "csv" (comma-separated, quoted as RFC 4180), "fields"
	// (separated by runs of spaces: CDNOW), or "baskets" (one receipt a row,
	// its items separated by commas, no header: Groceries).
	Format string `json:"format"`
	// Header says the first row names the columns.
	Header bool `json:"header"`
	// Columns map Kopilka's fields to the file's: receipt, customer, store,
	// sku, category, name, quantity, price (a unit's), amount (the line's), time.
	// Receipt, sku, quantity and either price or amount are needed (for
	// baskets only sku, the item); customer empty makes every receipt
	// anonymous (a guest's); store empty needs StoreID.
	Columns Columns `json:"columns"`
	// TimeLayout is the time's Go layout ("2006-01-02 15:04:05"); the time
	// is read in Zone (an IANA name; empty: the programme's zone). Without a
	// time column every receipt is dated at the import's -at time.
	TimeLayout string `json:"time_layout,omitempty"`
	Zone       string `json:"zone,omitempty"`
	// Money is "major" when prices and amounts are written in major units
	// with a decimal point (2.55 pounds is 255 minor units), "minor" when
	// they are integers in minor units already.
	Money string `json:"money,omitempty"`
	// Categories, when set, gives each SKU its category from another file
	// (Complete Journey's products, Groceries' item levels).
	Categories *Lookup `json:"categories,omitempty"`
}

// Columns are a mapping's column specs (see Mapping).
type Columns struct {
	Receipt  string `json:"receipt,omitempty"`
	Customer string `json:"customer,omitempty"`
	Store    string `json:"store,omitempty"`
	SKU      string `json:"sku,omitempty"`
	Category string `json:"category,omitempty"`
	// Name is the good's name (optional): products keeps the first seen.
	Name     string `json:"name,omitempty"`
	Quantity string `json:"quantity,omitempty"`
	Price    string `json:"price,omitempty"`
	Amount   string `json:"amount,omitempty"`
	Time     string `json:"time,omitempty"`
}

// Lookup reads a CSV with a header: the column Key of each row maps to
// its column Value. File is relative to the imported file's directory.
type Lookup struct {
	File  string `json:"file"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Ready are the mappings of the data sets in ../shared/data (see its
// README): Online Retail (one web shop, store "online"), Complete Journey's
// transactions (its stores, categories from products.csv.gz), the CDNOW
// cohort's master file (a receipt per customer and day, one SKU "cd"), and
// Groceries' baskets (anonymous receipts, categories from the item info).
var Ready = map[string]Mapping{
	"online-retail": {
		Name: "online-retail", Format: "csv", Header: true,
		Columns: Columns{Receipt: "InvoiceNo", Customer: "CustomerID", Store: "=online", SKU: "StockCode", Name: "Description",
			Quantity: "Quantity", Price: "UnitPrice", Time: "InvoiceDate"},
		TimeLayout: "2006-01-02 15:04:05", Zone: "Europe/London", Money: "major",
	},
	"complete-journey": {
		Name: "complete-journey", Format: "csv", Header: true,
		Columns: Columns{Receipt: "basket_id", Customer: "household_id", Store: "store_id", SKU: "product_id",
			Quantity: "quantity", Amount: "sales_value", Time: "transaction_timestamp"},
		TimeLayout: "2006-01-02 15:04:05", Zone: "America/Chicago", Money: "major",
		Categories: &Lookup{File: "products.csv.gz", Key: "product_id", Value: "product_category"},
	},
	"cdnow": {
		Name: "cdnow", Format: "fields", Header: true,
		Columns: Columns{Receipt: "customer_id+date", Customer: "customer_id", Store: "=cdnow", SKU: "=cd",
			Quantity: "number_of_cds", Amount: "dollar_value", Time: "date"},
		TimeLayout: "20060102", Zone: "America/New_York", Money: "major",
	},
	"groceries": {
		Name: "groceries", Format: "baskets",
		Columns:    Columns{Store: "=groceries"},
		Money:      "minor",
		Categories: &Lookup{File: "groceries_item_info.csv", Key: "item", Value: "level2"},
	},
}

// ReadyNames lists the ready mappings' names, sorted.
func ReadyNames() []string {
	var names []string
	for n := range Ready {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// LoadMapping reads a mapping from a JSON file, or returns the ready one
// of that name. An unknown field or name is an error.
func LoadMapping(nameOrFile string) (Mapping, error) {
	if m, ok := Ready[nameOrFile]; ok {
		return m, nil
	}
	raw, err := os.ReadFile(nameOrFile)
	if err != nil {
		return Mapping{}, fmt.Errorf("mapping %q is neither a ready one (%s) nor a file: %w", nameOrFile, strings.Join(ReadyNames(), ", "), err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return Mapping{}, fmt.Errorf("mapping %s: %w", nameOrFile, err)
	}
	return m, m.Check()
}

// Check reports the first thing the mapping lacks, naming its field.
func (m Mapping) Check() error {
	bad := func(field, msg string) error { return kopilka.FieldErr(kopilka.EINVALID, field, msg) }
	switch m.Format {
	case "csv", "fields":
		if m.Columns.Receipt == "" {
			return bad("columns.receipt", "a receipt column is needed")
		}
		if m.Columns.SKU == "" {
			return bad("columns.sku", "a SKU column is needed")
		}
		if m.Columns.Quantity == "" {
			return bad("columns.quantity", "a quantity column is needed")
		}
		if m.Columns.Price == "" && m.Columns.Amount == "" {
			return bad("columns.price", "a price or an amount column is needed")
		}
	case "baskets":
		if m.Header {
			return bad("header", "a file of baskets has no header")
		}
	default:
		return bad("format", `format is "csv", "fields" or "baskets"`)
	}
	if m.Columns.Store == "" {
		return bad("columns.store", `a store column, or "=id" for one store, is needed`)
	}
	if m.Money != "major" && m.Money != "minor" {
		return bad("money", `money is "major" (2.55) or "minor" (255)`)
	}
	if m.Columns.Time != "" && m.TimeLayout == "" {
		return bad("time_layout", "a time column needs its layout")
	}
	if m.Zone != "" {
		if _, err := time.LoadLocation(m.Zone); err != nil {
			return bad("zone", "unknown time zone")
		}
	}
	return nil
}
