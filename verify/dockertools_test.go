package verify_test

import (
	"bytes"
	"context"
	"path"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/dockertools"
	"github.com/nixdock/nixdock-action/verify"
)

// diffFixtures compares two of the real dockerTools archives.
func diffFixtures(t *testing.T, a, b string) *verify.Report {
	t.Helper()
	open := func(name string) *image.Image {
		img, err := image.Open(context.Background(), dockertools.Path(t, name), image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { img.Close() })
		return img
	}
	rep, err := verify.Images(context.Background(), open(a), open(b), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// good with itself, and odd-A with odd-B (hard links, unicode names, a
// long path, special bits, 10,000 files): identical.
func TestDockerToolsIdentical(t *testing.T) {
	for _, pair := range [][2]string{{"good", "good"}, {"odd-A", "odd-B"}} {
		rep := diffFixtures(t, pair[0], pair[1])
		if !rep.Reproducible || len(rep.Differences) != 0 || len(rep.Culprits) != 0 || !strings.HasPrefix(rep.Verdict, "reproducible") {
			t.Errorf("%s vs %s: %q, %d differences, %d culprits; want identical", pair[0], pair[1], rep.Verdict, len(rep.Differences), len(rep.Culprits))
		}
	}
}

// diff good now: the config's created reads the clock; no package blamed.
func TestDockerToolsNow(t *testing.T) {
	rep := diffFixtures(t, "good", "now")
	if rep.Reproducible || len(rep.Culprits) != 1 {
		t.Fatalf("%q with %d culprits, want one (the config)", rep.Verdict, len(rep.Culprits))
	}
	c := rep.Culprits[0]
	if strings.Contains(c.StorePath, "/nix/store/") || !strings.Contains(c.Evidence, "created") || !strings.Contains(rep.Verdict, "created") {
		t.Errorf("culprit %q (%s), verdict %q: want the config's created, no package", c.StorePath, c.Evidence, rep.Verdict)
	}
}

// causes-A vs causes-B: one file per cause, each with its own cause, the
// ELF's evidence showing the two __TIME__ strings.
func TestDockerToolsCauses(t *testing.T) {
	rep := diffFixtures(t, "causes-A", "causes-B")
	want := map[string]string{
		"uuid": verify.CauseRandom, "base64": verify.CauseRandom, "od-hex-bytes": verify.CauseRandom,
		"hex-string": verify.CauseRandom, "decimal": verify.CauseRandom,
		"epoch": verify.CauseTimestamp, "rfc2822": verify.CauseTimestamp, "epoch-nanos": verify.CauseTimestamp,
		"doc.txt.gz": verify.CauseTimestamp, "app.jar": verify.CauseTimestamp, "compiled-at": verify.CauseTimestamp,
		"order": verify.CauseOrder, "build-path": verify.CauseBuildPath,
	}
	var roots []verify.Culprit
	for _, c := range rep.Culprits {
		if c.Root() {
			roots = append(roots, c)
		}
	}
	if len(roots) != 1 || !strings.HasSuffix(roots[0].StorePath, "-causes-1.0") {
		t.Fatalf("root causes %+v, want causes-1.0 alone", roots)
	}
	got := map[string]verify.FileEvidence{}
	for _, f := range roots[0].FileDiffs {
		got[path.Base(f.Path)] = f
	}
	for name, cause := range want {
		f, ok := got[name]
		if !ok || strings.Join(f.Causes, ",") != cause {
			t.Errorf("%s: causes %v (%q), want [%s]", name, f.Causes, f.Evidence, cause)
		}
	}
	// The text lists the changed layer once, under its root cause, not as
	// its digest, the config's rootfs entry and the layer.
	var txt bytes.Buffer
	if err := rep.WriteText(&txt, verify.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	_, diffs, _ := strings.Cut(txt.String(), "\nDifferences (")
	want1 := roots[0].StorePath + ": 13 files in layer 0; so the digest and rootfs entry of layer 0\n"
	if strings.Count(diffs, "\n  ") != 2 || !strings.Contains(diffs, "\n  "+want1) || strings.Contains(diffs, "rootfs.diff_ids") {
		t.Errorf("Differences should be one item for causes-1.0 and the digests that follow:\n%s", diffs)
	}
	ev := got["compiled-at"].Evidence
	if !strings.Contains(ev, `"08:13:53" vs "08:14:12"`) || strings.Contains(ev, "binary bytes") {
		t.Errorf("ELF evidence %q, want the two __TIME__ strings", ev)
	}
	for name, part := range map[string]string{
		"doc.txt.gz": "gzip header mtime 2026-12-06T08:13:53Z vs 2026-12-06T08:14:12Z",
		"app.jar":    `zip entry "doc.txt" time 2026-12-06 08:13:52 vs 2026-12-06 08:14:12`,
	} {
		if !strings.Contains(got[name].Evidence, part) {
			t.Errorf("%s evidence %q, want %q", name, got[name].Evidence, part)
		}
	}
}
