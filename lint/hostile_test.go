package lint

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nixdock/nixdock-action/internal/escape/escapetest"
)

// TestHostileRender renders findings whose titles, locations, evidence,
// store paths and image source are attacks: text, Markdown and the SARIF
// message show them escaped.
func TestHostileRender(t *testing.T) {
	layer := 0
	r := &Result{Schema: "nixdock.dev/lint/v1", Image: ImageInfo{Source: escapetest.Payloads[0], Form: "docker-archive"}}
	for i, p := range escapetest.Payloads {
		sp := escapetest.StorePath(i)
		r.Findings = append(r.Findings, Finding{
			ID: "config-exec-missing", Severity: SeverityError,
			Title:    "config.Entrypoint[0] " + p + " is not in the image",
			Evidence: []string{"label " + p + " = " + p, "second line\n" + p},
			Fix:      "Point the command at a program.",
			Location: Location{Path: sp + "/bin/" + p, Layer: &layer, StorePath: sp},
		})
		r.Sizes = append(r.Sizes, PathSize{StorePath: sp, Bytes: int64(i), Files: 1})
	}
	r.Counts.Errors = len(r.Findings)
	var text, md, sarif bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSARIF(&sarif); err != nil {
		t.Fatal(err)
	}
	escapetest.CheckText(t, "lint text", text.String())
	escapetest.CheckMarkdown(t, "lint markdown", md.String())
	var log struct {
		Runs []struct {
			Results []struct {
				Message struct{ Text string } `json:"message"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	for _, res := range log.Runs[0].Results {
		escapetest.CheckText(t, "SARIF message", res.Message.Text)
	}
}
