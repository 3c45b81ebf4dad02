package verify

import (
	"fmt"
	"strings"

	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/internal/escape"
)

// agreementSummary is the heading line of the builders section: how many
// count, on how many hosts, against which policy.
func agreementSummary(d *agree.Decision) string {
	s := fmt.Sprintf("%d of %d count, on %d host(s); policy: %d builder(s)", d.Counted, len(d.Builders), d.Hosts, d.Policy.MinBuilders)
	if d.Policy.MinHosts > 0 {
		s += fmt.Sprintf(", %d host(s)", d.Policy.MinHosts)
	}
	return s
}

// builderWhy is one builder's part in words: why it counts or not, how it
// was isolated, and how it is known.
func builderWhy(b agree.Builder) string {
	parts := []string{b.Why}
	if b.Isolation != "" {
		parts = append(parts, b.Isolation)
	}
	return strings.Join(append(parts, b.Identity), "; ")
}

// writeAgreement writes who counts towards the proof, one line a builder.
func (t *textWriter) writeAgreement(d *agree.Decision) {
	if d == nil {
		return
	}
	t.line("")
	t.line("Builders (%s):", agreementSummary(d))
	width := 0
	for _, b := range d.Builders {
		width = max(width, len(b.ID))
	}
	for _, b := range d.Builders {
		mark := t.paint(ansiGreen, "✓")
		if !b.Counts {
			mark = t.paint(ansiRed, "✗")
		}
		t.line("  %s %-*s  %s", mark, width, b.ID, builderWhy(b))
	}
}

// writeMarkdownAgreement writes the builders as a table.
func writeMarkdownAgreement(p func(string, ...any), d *agree.Decision) {
	if d == nil {
		return
	}
	p("")
	p("**Builders** (%s)", escape.Markdown(agreementSummary(d)))
	p("")
	p("| | Builder | Why |")
	p("| --- | --- | --- |")
	for _, b := range d.Builders {
		mark := "✅"
		if !b.Counts {
			mark = "❌"
		}
		p("| %s | %s | %s |", mark, escape.Markdown(b.ID), escape.Markdown(builderWhy(b)))
	}
}
