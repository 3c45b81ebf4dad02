package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/nixdock/nixdock-action/internal/escape/escapetest"
	"github.com/nixdock/nixdock-action/internal/testimage"
)

// hostileLayout writes an OCI layout whose files, store paths and label
// keys are the payloads, with contents that differ between variant a and b.
func hostileLayout(t *testing.T, dir, variant string) string {
	t.Helper()
	var entries []testimage.Entry
	labels := map[string]string{}
	for i, p := range escapetest.Payloads {
		name := escapetest.StorePath(i) + "/" + strings.ReplaceAll(p, "/", "_")
		entries = append(entries, testimage.Entry{Name: name, Body: "seed " + variant + " " + p + "\n",
			Type: tar.TypeReg, Mode: 0o444, Format: tar.FormatPAX})
		labels[p] = variant
	}
	l := testimage.V1Layer(t, entries...)
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHostileDiffInActions runs `nixdock diff` as a workflow step would, on
// images whose names are attacks: stdout and stderr hold no line the runner
// would read as a command and no terminal escape, in text and Markdown,
// and an error naming a hostile file is escaped too.
func TestHostileDiffInActions(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	tmp := t.TempDir()
	a := hostileLayout(t, filepath.Join(tmp, "a"), "a")
	b := hostileLayout(t, filepath.Join(tmp, "b"), "b")
	code, out, errs := runCLI(t, "diff", "--no-nix", a, b)
	if code != ExitDiffers {
		t.Fatalf("diff exit %d, want %d", code, ExitDiffers)
	}
	if !strings.Contains(out, `config.Labels.\x1b]0;pwned\x07`) {
		t.Errorf("the hostile label key is not shown escaped:\n%s", out)
	}
	escapetest.CheckText(t, "diff stdout", out)
	escapetest.CheckText(t, "diff stderr", errs)
	code, out, errs = runCLI(t, "diff", "--no-nix", "--markdown", a, b)
	if code != ExitDiffers {
		t.Fatalf("diff --markdown exit %d", code)
	}
	escapetest.CheckMarkdown(t, "diff --markdown", out)
	escapetest.CheckText(t, "diff --markdown stderr", errs)

	// JSON on the guarded stdout stays valid and holds the raw names.
	code, out, _ = runCLI(t, "diff", "--no-nix", "--json", a, b)
	var rep struct {
		Differences []struct{ Field string } `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != ExitDiffers || err != nil {
		t.Fatalf("diff --json: exit %d, %v", code, err)
	}
	raw := false
	for _, d := range rep.Differences {
		raw = raw || d.Field == "config.Labels.##[error]v1"
	}
	if !raw {
		t.Errorf("diff --json lost the raw label key ##[error]v1: %+v", rep.Differences)
	}

	missing := filepath.Join(tmp, escapetest.Payloads[0]+escapetest.Payloads[4])
	code, out, errs = runCLI(t, "inspect", missing)
	if code != ExitFailure || !strings.Contains(errs, `\x3a:error title=INJECTED`) && !strings.Contains(errs, `\n::error`) {
		t.Errorf("inspect of a hostile missing file: exit %d, stderr %q", code, errs)
	}
	escapetest.CheckText(t, "inspect stderr", out+errs)
}

// TestUIMask: in Actions a secret is masked line by line on the raw stdout
// (a command on purpose); elsewhere nothing is printed.
func TestUIMask(t *testing.T) {
	var out, errb bytes.Buffer
	t.Setenv("GITHUB_ACTIONS", "true")
	ui := NewUI(&out, &errb)
	ui.Mask("eyJhbGci.x.y\r\n%line2")
	if got, want := out.String(), "::add-mask::eyJhbGci.x.y\n::add-mask::%25line2\n"; got != want {
		t.Errorf("masked %q, want %q", got, want)
	}
	t.Setenv("GITHUB_ACTIONS", "")
	out.Reset()
	NewUI(&out, &errb).Mask("secret")
	if out.Len() != 0 {
		t.Errorf("outside Actions Mask printed %q", out.String())
	}
}
