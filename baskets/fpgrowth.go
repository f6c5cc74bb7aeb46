// Package baskets mines what is bought together: frequent itemsets by
// FP-Growth (J. Han, J. Pei and Y. Yin, "Mining Frequent Patterns without
// Candidate Generation", SIGMOD 2000) and association rules with their
// support, confidence and lift (R. Agrawal, T. Imieliński and A. Swami,
// "Mining Association Rules between Sets of Items in Large Databases",
// SIGMOD 1993). Pure computation: no storage, no time.
package baskets

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
)

// Itemset is a set of items (sorted) and the baskets that hold all of them.
type Itemset struct {
	Items []string `json:"items"`
	Count int      `json:"count"`
}

// Rule is an association rule X → Y, Y one item: Support = baskets with X
// and Y / baskets, Confidence = baskets with X and Y / baskets with X,
// Lift = Confidence / (baskets with Y / baskets), as arules computes them.
type Rule struct {
	If         []string `json:"if"`
	Then       string   `json:"then"`
	Count      int      `json:"count"`
	Support    float64  `json:"support"`
	Confidence float64  `json:"confidence"`
	Lift       float64  `json:"lift"`
}

// Limits of a mining, so that no input balloons: at most MaxItemsetSize
// items in an itemset and MaxItemsets itemsets found.
const (
	MaxItemsetSize = 10
	MaxItemsets    = 200_000
)

// ErrTooMany is returned when the support asked for finds more than
// MaxItemsets itemsets: ask for a higher support.
var ErrTooMany = errors.New("baskets: more than 200,000 frequent itemsets; ask for a higher support")

// Miner gathers baskets and mines them.
type Miner struct {
	ids     map[string]int
	names   []string
	baskets [][]int32
}

// NewMiner returns an empty miner.
func NewMiner() *Miner { return &Miner{ids: map[string]int{}} }

// Add adds a basket; an item named twice counts once, an empty basket
// counts as a basket with nothing in it.
func (m *Miner) Add(items []string) {
	b := make([]int32, 0, len(items))
	for _, it := range items {
		id, ok := m.ids[it]
		if !ok {
			id = len(m.names)
			m.ids[it] = id
			m.names = append(m.names, it)
		}
		b = append(b, int32(id))
	}
	slices.Sort(b)
	m.baskets = append(m.baskets, slices.Compact(b))
}

// Baskets is how many baskets were added.
func (m *Miner) Baskets() int { return len(m.baskets) }

// MinCount is the fewest baskets an itemset of support minSupport needs
// among n: ⌈minSupport × n⌉, at least 1 (support ≥ minSupport, as arules).
func MinCount(minSupport float64, n int) int {
	c := int(minSupport*float64(n) - 1e-9)
	if float64(c) < minSupport*float64(n)-1e-9 {
		c++
	}
	return max(c, 1)
}

// node is a node of the FP-tree.
type node struct {
	item     int32
	count    int
	parent   *node
	children map[int32]*node
	next     *node // the next node of the same item
}

type tree struct {
	root  *node
	heads map[int32]*node
	count map[int32]int
}

func newTree() *tree {
	return &tree{root: &node{item: -1, children: map[int32]*node{}}, heads: map[int32]*node{}, count: map[int32]int{}}
}

func (t *tree) insert(path []int32, n int) {
	cur := t.root
	for _, it := range path {
		c := cur.children[it]
		if c == nil {
			c = &node{item: it, parent: cur, children: map[int32]*node{}, next: t.heads[it]}
			t.heads[it] = c
			cur.children[it] = c
		}
		c.count += n
		t.count[it] += n
		cur = c
	}
}

// Frequent returns every itemset in at least minCount baskets, of at most
// MaxItemsetSize items, by FP-Growth. It stops with ctx's error when ctx
// ends (a request given up on, a timeout), and with ErrTooMany past
// MaxItemsets.
func (m *Miner) Frequent(ctx context.Context, minCount int) ([]Itemset, error) {
	counts := map[int32]int{}
	for _, b := range m.baskets {
		for _, it := range b {
			counts[it]++
		}
	}
	// The order of the tree: items by count, most frequent first; ties by id.
	rank := map[int32]int{}
	var items []int32
	for it, c := range counts {
		if c >= minCount {
			items = append(items, it)
		}
	}
	sort.Slice(items, func(i, j int) bool {
		if counts[items[i]] != counts[items[j]] {
			return counts[items[i]] > counts[items[j]]
		}
		return items[i] < items[j]
	})
	for i, it := range items {
		rank[it] = i
	}
	t := newTree()
	for _, b := range m.baskets {
		var path []int32
		for _, it := range b {
			if _, ok := rank[it]; ok {
				path = append(path, it)
			}
		}
		sort.Slice(path, func(i, j int) bool { return rank[path[i]] < rank[path[j]] })
		t.insert(path, 1)
	}
	var out []Itemset
	var err error
	var grow func(t *tree, suffix []int32)
	grow = func(t *tree, suffix []int32) {
		if err != nil {
			return
		}
		// Items of this tree, least frequent first (the usual order).
		var its []int32
		for it, c := range t.count {
			if c >= minCount {
				its = append(its, it)
			}
		}
		sort.Slice(its, func(i, j int) bool { return rank[its[i]] > rank[its[j]] })
		for _, it := range its {
			if len(out)%256 == 0 {
				if e := ctx.Err(); e != nil {
					err = e
					return
				}
			}
			set := append(slices.Clone(suffix), it)
			out = append(out, m.itemset(set, t.count[it]))
			if len(out) > MaxItemsets {
				err = ErrTooMany
				return
			}
			if len(set) >= MaxItemsetSize {
				continue
			}
			// The conditional tree of it: the paths above its nodes.
			ct := newTree()
			for n := t.heads[it]; n != nil; n = n.next {
				if e := ctx.Err(); e != nil {
					err = e
					return
				}
				var path []int32
				for p := n.parent; p != nil && p.item >= 0; p = p.parent {
					path = append(path, p.item)
				}
				slices.Reverse(path)
				ct.insert(path, n.count)
			}
			if len(ct.count) > 0 {
				grow(ct, set)
			}
		}
	}
	grow(t, nil)
	return out, err
}

func (m *Miner) itemset(ids []int32, count int) Itemset {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = m.names[id]
	}
	slices.Sort(names)
	return Itemset{Items: names, Count: count}
}

// Rules returns the rules X → y of the frequent itemsets (X not empty)
// whose confidence is at least minConfidence, the most confident first,
// then by lift, support, and items. The itemsets must be all those of some
// minimum count (every subset of one is among them).
func Rules(sets []Itemset, baskets int, minConfidence float64) []Rule {
	count := make(map[string]int, len(sets))
	for _, s := range sets {
		count[key(s.Items)] = s.Count
	}
	n := float64(baskets)
	var out []Rule
	for _, s := range sets {
		if len(s.Items) < 2 {
			continue
		}
		for i, y := range s.Items {
			x := append(slices.Clone(s.Items[:i]), s.Items[i+1:]...)
			cx, cy := count[key(x)], count[y]
			if cx == 0 || cy == 0 {
				continue
			}
			conf := float64(s.Count) / float64(cx)
			if conf+1e-12 < minConfidence {
				continue
			}
			out = append(out, Rule{If: x, Then: y, Count: s.Count, Support: float64(s.Count) / n, Confidence: conf,
				Lift: conf / (float64(cy) / n)})
		}
	}
	slices.SortFunc(out, func(a, b Rule) int {
		switch {
		case a.Confidence != b.Confidence:
			return cmpDesc(a.Confidence, b.Confidence)
		case a.Lift != b.Lift:
			return cmpDesc(a.Lift, b.Lift)
		case a.Count != b.Count:
			return b.Count - a.Count
		}
		return strings.Compare(key(append(slices.Clone(a.If), a.Then)), key(append(slices.Clone(b.If), b.Then)))
	})
	return out
}

func cmpDesc(a, b float64) int {
	if a > b {
		return -1
	}
	return 1
}

func key(items []string) string { return strings.Join(items, "\x00") }
