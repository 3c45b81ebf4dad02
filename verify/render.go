package verify

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
)

// TextOptions tune WriteText.
type TextOptions struct {
	// Color adds ANSI colours; the CLI sets it only for a terminal.
	Color bool
	// MaxDetails bounds the differences listed (default 50; negative is
	// all of them).
	MaxDetails int
}

const (
	ansiReset  = "\033[0m"
	ansiBold   = "\033[1m"
	ansiRed    = "\033[31m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiDim    = "\033[2m"
)

type textWriter struct {
	w     *bufio.Writer
	color bool
}

// painted is text already escaped (and coloured): line writes it as it is.
type painted string

// paint escapes s and colours it.
func (t *textWriter) paint(code, s string) painted {
	if !t.color {
		return painted(escape.Text(s))
	}
	return painted(code + escape.Text(s) + ansiReset)
}

// line writes one line; every string argument is escaped (names, paths and
// evidence come from images and records), painted ones are already.
func (t *textWriter) line(format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = escape.Text(s)
		}
	}
	fmt.Fprintf(t.w, format+"\n", args...)
}

// WriteText writes the report for a terminal: the verdict first, then the
// culprits, then the details.
func (r *Report) WriteText(w io.Writer, opts TextOptions) error {
	if opts.MaxDetails == 0 {
		opts.MaxDetails = 50
	}
	t := &textWriter{w: bufio.NewWriter(w), color: opts.Color}
	mark := t.paint(ansiGreen+ansiBold, "✓")
	if !r.Reproducible {
		mark = t.paint(ansiRed+ansiBold, "✗")
	}
	t.line("%s %s", mark, r.Verdict)
	if r.Inputs != nil && !r.Inputs.Same {
		t.writeInputs(r.Inputs, opts.MaxDetails)
	}
	if len(r.Culprits) > 0 {
		t.line("")
		t.line("%s", t.paint(ansiBold, "Culprits:"))
		for i, c := range r.Culprits {
			t.writeCulprit(i+1, c)
		}
	}
	t.writeDetails(r, opts.MaxDetails)
	return t.w.Flush()
}

func (t *textWriter) writeInputs(in *Inputs, max int) {
	t.line("")
	t.line("%s", t.paint(ansiBold, "Input differences (as nix-diff shows them):"))
	for i, d := range in.Differences {
		if max > 0 && i == max {
			t.line("  … and %d more", len(in.Differences)-max)
			break
		}
		var via painted
		if d.ViaInput {
			via = t.paint(ansiDim, " (follows from a changed input)")
		}
		t.line("  %s %s: %s vs %s%s", t.paint(ansiBold, d.Derivation), fieldLabel(d), short(d.A, 60), short(d.B, 60), via)
	}
}

func (t *textWriter) writeCulprit(n int, c Culprit) {
	// A consequence's own causes are its root cause's, copied: it is
	// labelled by what it follows from.
	causes := strings.Join(c.Causes, ", ")
	if !c.Root() {
		causes = "consequence of " + c.ConsequenceOf
	}
	t.line("  %d. %s  [%s]%s", n, t.paint(ansiBold, culpritName(c)), t.paint(ansiYellow, causes), t.nixVerdict(c))
	if c.ConsequenceWhy != "" {
		t.line("     follows: %s", c.ConsequenceWhy)
	}
	if len(c.Builders) > 0 {
		t.line("     differs on: %s", strings.Join(c.Builders, ", "))
	}
	if c.DrvPath != "" {
		t.line("     drv:    %s", c.DrvPath)
	}
	for i, f := range c.FileDiffs {
		label := "files: "
		if i > 0 {
			label = "       "
		}
		if i == 5 {
			t.line("     %s … and %d more", label, len(c.FileDiffs)-5+c.MoreFiles)
			break
		}
		why := t.fileWhy(f)
		if !c.Root() && f.Evidence != "" {
			why = painted(" " + escape.Text(f.Evidence))
		}
		t.line("     %s %s%s", label, f.Path, why)
	}
	if c.Evidence != "" && !fileEvidence(c) {
		t.line("     why:    %s", c.Evidence)
	}
	if c.Confirmed != nil {
		verdict := "refuted"
		if *c.Confirmed {
			verdict = "confirmed"
		}
		t.line("     %s by %s", verdict, c.ConfirmedBy)
	}
	t.line("     check:  %s", c.Hint)
}

// nixVerdict is what nixdock reproduce learnt from Nix, for the culprit's
// first line, so that a reader sees it at once.
func (t *textWriter) nixVerdict(c Culprit) painted {
	switch {
	case c.Confirmed == nil:
		return ""
	case *c.Confirmed:
		return " " + t.paint(ansiRed+ansiBold, "confirmed by Nix")
	}
	return " " + t.paint(ansiGreen, "refuted by Nix")
}

// fileWhy is the causes and evidence shown after a culprit's file.
func (t *textWriter) fileWhy(f FileEvidence) painted {
	var s painted
	if len(f.Causes) > 0 {
		s = "  " + t.paint(ansiYellow, "["+strings.Join(f.Causes, ", ")+"]")
	}
	if f.Evidence != "" {
		s += painted(" " + escape.Text(f.Evidence))
	}
	return s
}

// fileEvidence reports whether the culprit's Evidence is one of its files'
// (then the file lines show it; the config's evidence is not).
func fileEvidence(c Culprit) bool {
	for _, f := range c.FileDiffs {
		if f.Evidence != "" && relToCulprit(c, f.Path)+": "+f.Evidence == c.Evidence {
			return true
		}
	}
	return false
}

// relToCulprit is file relative to the culprit's store path, as Evidence
// names it.
func relToCulprit(c Culprit, file string) string {
	return strings.TrimPrefix(file, c.StorePath+"/")
}

func (t *textWriter) writeDetails(r *Report, max int) {
	if r.Inputs != nil && r.Inputs.Same && len(r.Inputs.DrvPaths) > 0 {
		t.line("")
		t.line("Inputs: same derivation %s", r.Inputs.DrvPaths[0])
	}
	t.writeAgreement(r.Agreement)
	if len(r.Groups) > 0 {
		t.line("")
		t.line("Groups (builds with the same image):")
		for _, g := range r.Groups {
			var ref painted
			if g.Reference {
				ref = t.paint(ansiDim, "  (reference)")
			}
			t.line("  %s%s", strings.Join(g.Builders, ", "), ref)
		}
	}
	if len(r.Digests) > 0 {
		t.line("")
		t.line("Digests:")
		for _, d := range r.Digests {
			state := t.paint(ansiGreen, "same   ")
			switch {
			case !d.Compared:
				state = t.paint(ansiDim, "skipped")
			case !d.Same:
				state = t.paint(ansiRed, "differ ")
			}
			t.line("  %-15s %s %s", d.Name, state, strings.Join(d.Values, "  "))
			if d.Note != "" {
				t.line("  %-15s         %s", "", d.Note)
			}
		}
	}
	if len(r.Differences) == 0 {
		return
	}
	items, digests, rest := summarize(r)
	t.line("")
	t.line("Differences (%d; one item per root cause, the JSON report lists each):", len(r.Differences)+r.Truncated)
	for _, it := range items {
		t.writeItem(r, it, "  ")
	}
	if len(digests) > 0 {
		t.line("  and the image digests that follow: %s", strings.Join(digests, ", "))
	}
	for i, d := range rest {
		if max > 0 && i == max {
			t.line("  … and %d more (the JSON report lists them)", len(rest)-max+r.Truncated)
			return
		}
		t.line("  %s", differenceLine(d))
	}
	if r.Truncated > 0 {
		t.line("  … and %d more, left out of the report", r.Truncated)
	}
}

// writeItem writes a culprit's line of the Differences summary, and its
// consequences under it.
func (t *textWriter) writeItem(r *Report, it *diffItem, indent string) {
	c := r.Culprits[it.culprit]
	label := culpritName(c)
	if !c.Root() {
		label = "consequence " + label
	}
	on := ""
	if len(c.Builders) > 0 {
		on = " (" + strings.Join(c.Builders, ", ") + ")"
	}
	t.line("%s%s: %s%s", indent, label, it.describe(), on)
	for _, sub := range it.subs {
		t.writeItem(r, sub, indent+"  ")
	}
}

func differenceLine(d Difference) string {
	where := d.Kind
	if d.Layer >= 0 || d.LayerB != nil {
		where = strings.TrimPrefix(where+" ", "layer ") + "layer " + layerLabel(d)
	}
	if d.Path != "" {
		where += " " + d.Path
	}
	s := fmt.Sprintf("%s %s: %s vs %s", where, d.Field, short(d.A, 72), short(d.B, 72))
	if d.Builder != "" {
		s += " (" + d.Builder + ")"
	}
	return s
}

func layerLabel(d Difference) string {
	a := strconv.Itoa(d.Layer)
	if d.Layer < 0 {
		a = "-"
	}
	if d.LayerB != nil {
		b := strconv.Itoa(*d.LayerB)
		if *d.LayerB < 0 {
			b = "-"
		}
		return a + "/" + b
	}
	return a
}

// short quotes s, cut to n characters.
func short(s string, n int) string { return escape.Quote(escape.Cut(s, n)) }

// WriteMarkdown writes the report for a pull-request comment or a step
// summary: the verdict, a table of culprits and the details folded away.
func (r *Report) WriteMarkdown(w io.Writer) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	if r.Reproducible {
		p("### ✅ Reproducible")
	} else if r.Inputs != nil && !r.Inputs.Same {
		p("### ⚠️ Inputs differ")
	} else {
		p("### ❌ Not reproducible")
	}
	p("")
	p("%s", escape.Markdown(r.Verdict))
	if r.Inputs != nil && !r.Inputs.Same {
		p("")
		p("| Derivation | What differs | A | B |")
		p("| --- | --- | --- | --- |")
		for _, d := range r.Inputs.Differences {
			what := fieldLabel(d)
			if d.ViaInput {
				what += " (follows from an input)"
			}
			p("| %s | %s | %s | %s |", escape.Code(d.Derivation), escape.Markdown(what), escape.Code(escape.Cut(d.A, 60)), escape.Code(escape.Cut(d.B, 60)))
		}
	}
	if len(r.Culprits) > 0 {
		p("")
		p("| Culprit | Files | Cause | How to confirm |")
		p("| --- | --- | --- | --- |")
		for _, c := range r.Culprits {
			p("| %s | %s | %s | %s |", mdCulprit(c), mdFiles(c), mdCauses(c), escape.Code(c.Hint))
		}
	}
	writeMarkdownAgreement(p, r.Agreement)
	writeMarkdownDetails(p, r)
	return b.Flush()
}

func mdCulprit(c Culprit) string {
	s := mdName(c)
	if len(c.Builders) > 0 {
		s += "<br>differs on " + escape.Markdown(strings.Join(c.Builders, ", "))
	}
	return s
}

// mdFiles lists up to five files, each with its causes and a cut excerpt.
func mdFiles(c Culprit) string {
	var fs []string
	for i, f := range c.FileDiffs {
		if i == 5 {
			fs = append(fs, fmt.Sprintf("and %d more", len(c.FileDiffs)-5+c.MoreFiles))
			break
		}
		s := escape.Code(relToCulprit(c, f.Path))
		if len(f.Causes) > 0 {
			s += " (" + escape.Markdown(strings.Join(f.Causes, ", ")) + ")"
		}
		if f.Evidence != "" {
			s += ": " + escape.Markdown(escape.Cut(f.Evidence, 100))
		}
		fs = append(fs, s)
	}
	return strings.Join(fs, "<br>")
}

// mdCauses is the culprit's causes, and its evidence when no file line
// shows it (the config's).
func mdCauses(c Culprit) string {
	s := escape.Markdown(strings.Join(c.Causes, ", "))
	if !c.Root() {
		s = "consequence of " + escape.Code(c.ConsequenceOf)
		if c.ConsequenceWhy != "" {
			s += ": " + escape.Markdown(c.ConsequenceWhy)
		}
	}
	if c.Evidence != "" && !fileEvidence(c) {
		s += "<br>" + escape.Markdown(escape.Cut(c.Evidence, 160))
	}
	return s
}

func writeMarkdownDetails(p func(string, ...any), r *Report) {
	if len(r.Differences) == 0 {
		return
	}
	items, digests, rest := summarize(r)
	p("")
	p("<details><summary>%d differences (one item per root cause; the JSON report lists each)</summary>", len(r.Differences)+r.Truncated)
	p("")
	var item func(it *diffItem, indent string)
	item = func(it *diffItem, indent string) {
		c := r.Culprits[it.culprit]
		label := mdName(c)
		if !c.Root() {
			label = "consequence " + label
		}
		p("%s- %s: %s", indent, label, escape.Markdown(it.describe()))
		for _, sub := range it.subs {
			item(sub, indent+"  ")
		}
	}
	for _, it := range items {
		item(it, "")
	}
	if len(digests) > 0 {
		p("- and the image digests that follow: %s", escape.Markdown(strings.Join(digests, ", ")))
	}
	if len(rest) == 0 {
		p("")
		p("</details>")
		return
	}
	p("")
	p("| Kind | Layer | Path | Field | A | B |")
	p("| --- | --- | --- | --- | --- | --- |")
	// With three or more records, B names its builder (A is the reference).
	bLabel := func(d Difference) string {
		if d.Builder == "" {
			return ""
		}
		return " (" + escape.Markdown(d.Builder) + ")"
	}
	for i, d := range rest {
		if i == 100 {
			p("| … | | %d more | | | |", len(rest)-100+r.Truncated)
			break
		}
		layer := ""
		if d.Layer >= 0 || d.LayerB != nil {
			layer = layerLabel(d)
		}
		p("| %s | %s | %s | %s | %s | %s |", d.Kind, layer, escape.Code(d.Path), escape.Markdown(d.Field), escape.Code(escape.Cut(d.A, 60)), escape.Code(escape.Cut(d.B, 60))+bLabel(d))
	}
	p("")
	p("</details>")
}

// mdName is a culprit's name: a store path as code, a description (the
// image config) as text.
func mdName(c Culprit) string {
	if c.StorePath == "" {
		return escape.Markdown(culpritName(c))
	}
	return escape.Code(culpritName(c))
}
