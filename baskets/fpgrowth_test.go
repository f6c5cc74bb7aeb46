package baskets

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func dataDir() string {
	if d := os.Getenv("KOPILKA_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

// groceries reads the Groceries baskets (labels trimmed, as the README says).
func groceries(t testing.TB) *Miner {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir(), "groceries", "groceries.csv"))
	if err != nil {
		if os.Getenv("KOPILKA_DATA") != "" {
			t.Fatalf("KOPILKA_DATA is set but Groceries is not there: %v", err)
		}
		t.Skipf("no Groceries data: %v", err)
	}
	defer f.Close()
	m := NewMiner()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var items []string
		for _, it := range strings.Split(sc.Text(), ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		m.Add(items)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGroceries_ThePublishedFigures: 9,835 baskets; whole milk in 2,513,
// other vegetables 1,903, rolls/buns 1,809, soda 1,715, yogurt 1,372; at
// support 0.005 and confidence 0.5, arules finds 120 rules.
func TestGroceries_ThePublishedFigures(t *testing.T) {
	m := groceries(t)
	if m.Baskets() != 9_835 {
		t.Fatalf("%d baskets", m.Baskets())
	}
	sets, err := m.Frequent(context.Background(), MinCount(0.005, m.Baskets()))
	if err != nil {
		t.Fatal(err)
	}
	ones := map[string]int{}
	for _, s := range sets {
		if len(s.Items) == 1 {
			ones[s.Items[0]] = s.Count
		}
	}
	for item, want := range map[string]int{"whole milk": 2_513, "other vegetables": 1_903, "rolls/buns": 1_809, "soda": 1_715, "yogurt": 1_372} {
		if ones[item] != want {
			t.Errorf("%s in %d baskets, want %d", item, ones[item], want)
		}
	}
	rules := Rules(sets, m.Baskets(), 0.5)
	if len(rules) != 120 {
		t.Fatalf("%d rules, want 120", len(rules))
	}
	top := rules[0]
	t.Logf("%d itemsets; the most confident rule: %v → %s (support %.4f, confidence %.3f, lift %.2f)",
		len(sets), top.If, top.Then, top.Support, top.Confidence, top.Lift)
	for _, r := range rules {
		if r.Confidence < 0.5 || r.Support < 0.005 || r.Lift <= 0 || len(r.If) == 0 {
			t.Fatalf("a rule out of bounds: %+v", r)
		}
	}
}

// TestFrequent_ASmallCaseByHand checks counts, the rule measures and that
// a duplicate item counts once.
func TestFrequent_ASmallCaseByHand(t *testing.T) {
	m := NewMiner()
	for _, b := range [][]string{{"a", "b", "c"}, {"a", "b"}, {"a", "c", "a"}, {"b"}, {"a", "b", "c", "d"}} {
		m.Add(b)
	}
	sets, err := m.Frequent(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range sets {
		got[strings.Join(s.Items, "")] = s.Count
	}
	want := map[string]int{"a": 4, "b": 4, "c": 3, "ab": 3, "ac": 3, "bc": 2, "abc": 2}
	if len(got) != len(want) {
		t.Fatalf("itemsets %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d", k, got[k], v)
		}
	}
	rules := Rules(sets, 5, 0.75)
	// c → a: 3/3 = 1, lift 1/(4/5) = 1.25; bc → a: 2/2; ab → c 2/3 is out.
	if rules[0].Confidence != 1 || len(rules) != 5 {
		t.Fatalf("rules %+v", rules)
	}
	for _, r := range rules {
		if r.Then == "a" && len(r.If) == 1 && r.If[0] == "c" && (r.Lift != 1.25 || r.Support != 0.6) {
			t.Errorf("c → a: %+v", r)
		}
	}
	if MinCount(0.005, 9835) != 50 || MinCount(0.5, 4) != 2 || MinCount(0, 10) != 1 {
		t.Error("MinCount")
	}
}

// BenchmarkFrequent_Groceries mines Groceries at support 0.005.
func BenchmarkFrequent_Groceries(b *testing.B) {
	m := groceries(b)
	for b.Loop() {
		sets, _ := m.Frequent(context.Background(), MinCount(0.005, m.Baskets()))
		Rules(sets, m.Baskets(), 0.5)
	}
}

// TestFrequent_StopsWhenAskedAndPastItsBudget: a cancelled context stops a
// mining at once, and a support that finds too many itemsets stops at
// MaxItemsets.
func TestFrequent_StopsWhenAskedAndPastItsBudget(t *testing.T) {
	m := NewMiner()
	items := make([]string, 30)
	for i := range items {
		items[i] = string(rune('a' + i))
	}
	for range 50 {
		m.Add(items) // every subset of 30 items is frequent: 2^30 itemsets
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Frequent(ctx, 1); err != context.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := m.Frequent(context.Background(), 1); err != ErrTooMany {
		t.Fatalf("2^30 itemsets: %v", err)
	}
}
