package reproduce

import (
	"fmt"
	"io"
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
	"github.com/nixdock/nixdock-action/verify"
)

// Report is the verifier's report plus what reproduce did: the stores, the
// variations and what was built twice. Its JSON is the verifier's report
// (schema nixdock.dev/report/v1) with one more field, "reproduce".
type Report struct {
	*verify.Report
	Reproduce *Info `json:"reproduce"`
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	data, err := r.MarshalJSONIndent()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// MarshalJSONIndent encodes the whole report, "reproduce" included; it
// shadows the embedded verify.Report's, which would leave that out.
func (r *Report) MarshalJSONIndent() ([]byte, error) { return verify.EncodeJSON(r) }

// WriteText writes the verifier's text report, then what the two builds
// varied and covered.
func (r *Report) WriteText(w io.Writer, opts verify.TextOptions) error {
	if err := r.Report.WriteText(w, opts); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nTwo builds in isolated stores (%s)\n", escape.Text(strings.Join(r.Reproduce.Stores, ", ")))
	for _, v := range r.Reproduce.Variations {
		fmt.Fprintf(&b, "  varied %s: %s / %s\n", escape.Text(v.Name), escape.Text(v.A), escape.Text(v.B))
	}
	fmt.Fprintf(&b, "  built twice: %d derivations; substituted from a cache: %d paths (not covered)\n",
		len(r.Reproduce.BuiltTwice), len(r.Reproduce.Substituted))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the verifier's Markdown, then the variations and
// coverage as a short list.
func (r *Report) WriteMarkdown(w io.Writer) error {
	if err := r.Report.WriteMarkdown(w); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\n**Two isolated builds.** ")
	var vs []string
	for _, v := range r.Reproduce.Variations {
		vs = append(vs, fmt.Sprintf("%s %s / %s", escape.Markdown(v.Name), escape.Code(v.A), escape.Code(v.B)))
	}
	if len(vs) > 0 {
		b.WriteString("Varied: " + strings.Join(vs, "; ") + ". ")
	}
	fmt.Fprintf(&b, "Built twice: %d derivations; substituted (not covered): %d paths.\n",
		len(r.Reproduce.BuiltTwice), len(r.Reproduce.Substituted))
	_, err := io.WriteString(w, b.String())
	return err
}
