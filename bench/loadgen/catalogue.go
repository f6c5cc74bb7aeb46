package loadgen

import (
	"math/rand/v2"
	"strconv"
)

// item is a product on a shelf: price in kopecks per unit, or per kilogram
// when sold by weight.
type item struct {
	sku      string
	category string
	price    int64
	byWeight bool
}

// catalogue is a small synthetic grocery assortment with Russian prices of
// the 2020s, so that receipts have realistic amounts and categories.
var catalogue = []item{
	{"4600001000011", "dairy", 8990, false},  // milk 1 l
	{"4600001000028", "dairy", 12990, false}, // kefir 1 l
	{"4600001000035", "dairy", 21990, false}, // butter 180 g
	{"4600001000042", "dairy", 7490, false},  // yoghurt
	{"4600001000059", "dairy", 89900, true},  // cheese, per kg
	{"4600001000066", "bakery", 5490, false}, // white loaf
	{"4600001000073", "bakery", 6990, false}, // rye bread
	{"4600001000080", "bakery", 3990, false}, // bun
	{"4600001000097", "produce", 12990, true},
	{"4600001000103", "produce", 4990, true},  // potatoes, per kg
	{"4600001000110", "produce", 19990, true}, // apples, per kg
	{"4600001000127", "produce", 15990, true}, // bananas, per kg
	{"4600001000134", "produce", 29990, true}, // tomatoes, per kg
	{"4600001000141", "meat", 54990, true},    // pork, per kg
	{"4600001000158", "meat", 39990, true},    // chicken, per kg
	{"4600001000165", "meat", 24990, false},   // sausages
	{"4600001000172", "fish", 79990, true},    // salmon, per kg
	{"4600001000189", "grocery", 9990, false}, // buckwheat
	{"4600001000196", "grocery", 8990, false}, // pasta
	{"4600001000202", "grocery", 14990, false},
	{"4600001000219", "grocery", 32990, false}, // coffee
	{"4600001000226", "grocery", 19990, false}, // tea
	{"4600001000233", "grocery", 11990, false}, // sunflower oil
	{"4600001000240", "sweets", 12990, false},  // chocolate
	{"4600001000257", "sweets", 24990, false},  // biscuits
	{"4600001000264", "drinks", 6990, false},   // water 1.5 l
	{"4600001000271", "drinks", 13990, false},  // juice 1 l
	{"4600001000288", "drinks", 9990, false},   // lemonade
	{"4600001000295", "alcohol", 59990, false}, // wine
	{"4600001000301", "alcohol", 12990, false}, // beer
	{"4600001000318", "household", 29990, false},
	{"4600001000325", "household", 44990, false}, // washing powder
	{"4600001000332", "hygiene", 19990, false},   // toothpaste
	{"4600001000349", "hygiene", 34990, false},   // shampoo
	{"4600001000356", "frozen", 27990, false},    // dumplings
	{"4600001000363", "frozen", 15990, false},    // ice cream
}

// line is a receipt line as the API takes it.
type line struct {
	Line     int    `json:"line"`
	SKU      string `json:"sku"`
	Category string `json:"category"`
	Quantity string `json:"quantity"`
	Price    int64  `json:"price"`
	Amount   int64  `json:"amount"`
}

// basket makes a receipt of 1 to 5 lines and returns them with the total.
func basket(rng *rand.Rand) (lines []line, total int64) {
	n := 1 + rng.IntN(5)
	lines = make([]line, n)
	for i := range lines {
		it := catalogue[rng.IntN(len(catalogue))]
		var qty int64 // thousandths of a unit
		if it.byWeight {
			qty = 150 + rng.Int64N(1850) // 0.150 to 2.000 kg
		} else {
			qty = 1000 * (1 + int64(rng.IntN(3)))
		}
		amount := (qty*it.price + 500) / 1000 // quantity × price, half up
		if rng.IntN(10) == 0 {
			amount -= amount / 10 // the shop's own 10 % discount
		}
		lines[i] = line{Line: i + 1, SKU: it.sku, Category: it.category,
			Quantity: formatQty(qty), Price: it.price, Amount: amount}
		total += amount
	}
	return lines, total
}

// formatQty writes thousandths as a decimal: 2000 is "2", 455 is "0.455".
func formatQty(q int64) string {
	s := strconv.FormatInt(q/1000, 10)
	if f := q % 1000; f != 0 {
		frac := strconv.FormatInt(1000+f, 10)[1:]
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		s += "." + frac
	}
	return s
}
