package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts are SVG drawn on the server, as the maps are: no script, no
// inline style (the CSP forbids it), geometry in attributes, a title and
// a label for screen readers, and the figures in a table beside them.

// barChart draws values as vertical bars with labels under every few, the
// largest value marked on the axis. formatted gives a value's text.
func barChart(title string, labels []string, values []int64, formatted func(int64) string) template.HTML {
	const w, h, left, bottom, top = 720, 220, 8, 28, 22
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`, w, h, html.EscapeString(title), html.EscapeString(title))
	var most int64
	for _, v := range values {
		most = max(most, v)
	}
	n := len(values)
	if n == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	slot := float64(w-left) / float64(n)
	plot := float64(h - bottom - top)
	every := max(1, (n+11)/12) // at most about twelve labels
	for i, v := range values {
		bh := 0.0
		if most > 0 && v > 0 {
			bh = plot * float64(v) / float64(most)
		}
		x := float64(left) + float64(i)*slot
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#0b5cad"><title>%s: %s</title></rect>`,
			x+slot*0.1, float64(top)+plot-bh, slot*0.8, bh, html.EscapeString(labels[i]), html.EscapeString(formatted(v)))
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#4f5761" text-anchor="middle">%s</text>`,
				x+slot/2, h-8, html.EscapeString(labels[i]))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d0d5db"/>`, left, h-bottom, w, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="14" font-size="12" fill="#4f5761">%s</text></svg>`, left, html.EscapeString(formatted(most)))
	return template.HTML(b.String())
}

// hbars draws labelled horizontal bars (segment sizes), the value after each.
func hbars(title string, labels []string, values []int64, formatted func(int64) string) template.HTML {
	const w, row, labelW, valueW = 720, 26, 190, 90
	h := row*len(labels) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`, w, h, html.EscapeString(title), html.EscapeString(title))
	var most int64
	for _, v := range values {
		most = max(most, v)
	}
	for i, v := range values {
		y := i*row + 2
		bw := 0.0
		if most > 0 {
			bw = float64(w-labelW-valueW) * float64(v) / float64(most)
		}
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="13" fill="#1b1f24">%s</text>`, y+17, html.EscapeString(labels[i]))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#0b5cad"/>`, labelW, y+4, bw, row-8)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="13" fill="#1b1f24">%s</text>`, float64(labelW)+bw+6, y+17, html.EscapeString(formatted(v)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// heat is the class of a cohort cell by its percentage: heat0 (none) to
// heat5 (half or more), light enough for dark text to keep its contrast.
func heat(p float64) string {
	switch {
	case p <= 0:
		return "heat0"
	case p < 10:
		return "heat1"
	case p < 20:
		return "heat2"
	case p < 35:
		return "heat3"
	case p < 50:
		return "heat4"
	}
	return "heat5"
}
