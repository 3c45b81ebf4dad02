package verify_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/nixdock/nixdock-action/record"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/escape/escapetest"
	"github.com/nixdock/nixdock-action/verify"
)

// hostileImage has one store path per payload, each with a file named by
// the payload whose content differs between builder a and b, and a label
// per payload whose value differs.
func hostileImage(t *testing.T, b bool) *image.Image {
	t.Helper()
	var entries []tentry
	labels := map[string]string{}
	for i, p := range escapetest.Payloads {
		sp := escapetest.StorePath(i)
		body := "seed 0aa22b1e3d7da0efdff761cc73a1cc5d " + p + "\n"
		if b {
			body = "seed 4ecd20a77968d3a239bac9c28833abe8 " + p + "\n"
		}
		name := strings.ReplaceAll(p, "/", "_")
		entries = append(entries, dir(sp), tentry{Name: sp + "/" + name, Body: body, Type: tar.TypeReg, Mode: 0o444})
		labels[p] = map[bool]string{false: "a " + p, true: "b " + p}[b]
	}
	img, err := mutate.AppendLayers(empty.Image, layerOf(t, entries))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Created = v1.Time{Time: time.Unix(1, 0).UTC()}
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Config.Labels = labels
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	return &image.Image{Image: img, Form: image.FormArchive, Source: escapetest.Payloads[0] + ".tar"}
}

// TestHostileNames renders a diff of images whose store paths, file names
// and label keys are attacks, and builders whose ids are: every human
// output shows them escaped, and pasting a culprit's hint runs nothing.
func TestHostileNames(t *testing.T) {
	ctx := context.Background()
	a, b := hostileImage(t, false), hostileImage(t, true)
	rep, err := verify.Images(ctx, a, b, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Culprits) < len(escapetest.Payloads) {
		t.Fatalf("%d culprits for %d hostile store paths", len(rep.Culprits), len(escapetest.Payloads))
	}
	// Records with hostile builder ids compare the same images.
	ra, rb := describing(t, syntheticRecord(escapetest.Payloads[0], imgDrv), a), describing(t, syntheticRecord(escapetest.Payloads[4], imgDrv), b)
	recRep, err := verify.Records(ctx, []*record.Record{ra, rb}, verify.Options{Images: []*image.Image{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*verify.Report{"diff": rep, "records": recRep} {
		var text, md bytes.Buffer
		if err := r.WriteText(&text, verify.TextOptions{MaxDetails: -1}); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		escapetest.CheckText(t, name+" text", text.String())
		escapetest.CheckMarkdown(t, name+" markdown", md.String())
		if !strings.Contains(text.String(), `\x1b]0;pwned\x07`) {
			t.Errorf("%s text does not show the escaped title sequence:\n%s", name, text.String())
		}
	}

	// Pasting the hint of the b$(touch${IFS}PWNED) culprit: Nix fails to
	// find the path, and nothing else runs.
	var hint string
	for _, c := range rep.Culprits {
		if strings.Contains(c.StorePath, "PWNED") {
			hint = c.Hint
		}
	}
	if hint == "" {
		t.Fatal("no culprit for the command-substitution store path")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", hint)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Errorf("pasting %q created PWNED (output %s)", hint, out)
	}
	if !strings.Contains(hint, `'`+escapetest.StorePath(11)+`'`) {
		t.Errorf("hint %q does not single-quote the store path", hint)
	}
}
