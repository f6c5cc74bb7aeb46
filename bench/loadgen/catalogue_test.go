package loadgen

import (
	"math/rand/v2"
	"testing"

	"github.com/kopilka/kopilka"
)

func TestBasketIsValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		lines, total := basket(rng)
		rc := kopilka.Receipt{ReceiptID: "r", StoreID: "s", MemberID: "m"}
		var sum int64
		for _, l := range lines {
			q, err := kopilka.ParseQuantity(l.Quantity)
			if err != nil {
				t.Fatalf("quantity %q: %v", l.Quantity, err)
			}
			rc.Lines = append(rc.Lines, kopilka.Line{Line: l.Line, SKU: l.SKU, Category: l.Category,
				Quantity: q, Price: l.Price, Amount: l.Amount})
			sum += l.Amount
		}
		rc.Total = &total
		if len(lines) < 1 || len(lines) > 5 || sum != total {
			t.Fatalf("%d lines, sum %d, total %d", len(lines), sum, total)
		}
		if err := rc.Validate(rc.OccurredAt); err != nil {
			t.Fatalf("%+v: %v", lines, err)
		}
	}
}

func TestFormatQty(t *testing.T) {
	for q, want := range map[int64]string{1000: "1", 3000: "3", 455: "0.455", 1500: "1.5", 150: "0.15", 2010: "2.01"} {
		if got := formatQty(q); got != want {
			t.Errorf("formatQty(%d) = %q, want %q", q, got, want)
		}
	}
}
