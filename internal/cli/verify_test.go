package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/nixdock/nixdock-action/record"

	"github.com/nixdock/nixdock-action/image"
)

// randomLayout writes a random one-layer image as an OCI layout.
func randomLayout(t *testing.T, dir string) string {
	t.Helper()
	img, err := random.Image(512, 1)
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

func TestDiffExitCodes(t *testing.T) {
	tmp := t.TempDir()
	a := randomLayout(t, filepath.Join(tmp, "a"))
	b := randomLayout(t, filepath.Join(tmp, "b"))
	if code, out, errs := runCLI(t, "diff", "--no-nix", a, a); code != 0 || !strings.HasPrefix(out, "✓ reproducible") {
		t.Errorf("same image: exit %d, %q %q", code, out, errs)
	}
	code, out, _ := runCLI(t, "diff", "--no-nix", "--json", a, b)
	var rep struct {
		Schema       string `json:"schema"`
		Reproducible bool   `json:"reproducible"`
		Culprits     []any  `json:"culprits"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Schema != "nixdock.dev/report/v1" || rep.Reproducible || len(rep.Culprits) == 0 {
		t.Errorf("different images: exit %d, report %+v (%v)", code, rep, err)
	}
	if code, out, _ := runCLI(t, "diff", "--no-nix", "--markdown", a, b); code != 1 || !strings.Contains(out, "| Culprit |") {
		t.Errorf("markdown: exit %d, %q", code, out)
	}
	if code, _, errs := runCLI(t, "diff", a, filepath.Join(tmp, "missing")); code != 3 || !strings.Contains(errs, "missing") {
		t.Errorf("missing image: exit %d, %q", code, errs)
	}
	if code, _, _ := runCLI(t, "diff", a); code != 2 {
		t.Errorf("one argument: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, "diff", "--json", "--markdown", a, b); code != 2 {
		t.Errorf("--json --markdown: exit %d, want 2", code)
	}
}

var testBuilds int64

// testRecord is a record of a build of its own (agree counts it).
func testRecord(drv, config string) *record.Record {
	d := "sha256:" + strings.Repeat("a", 64)
	testBuilds++
	return &record.Record{Schema: record.Schema, DrvPath: drv, OutPath: "/nix/store/x-image.tar",
		Origin:  &record.Origin{How: record.OriginBuilt, Host: "host", RegistrationTime: 1700000000 + testBuilds},
		Builder: record.Builder{ID: "b-" + config[:1]},
		Image: image.Digests{ConfigDigest: "sha256:" + strings.Repeat(config[:1], 64), ManifestDigest: d,
			Compressor: image.Compressor{Name: "gzip"}, Layers: []image.Layer{{DiffID: d, Digest: d}}}}
}

func TestVerifyExitCodes(t *testing.T) {
	tmp := t.TempDir()
	write := func(name string, r *record.Record) string {
		p := filepath.Join(tmp, name)
		if err := record.Write(p, r); err != nil {
			t.Fatal(err)
		}
		return p
	}
	drv := "/nix/store/00000000000000000000000000000000-image.tar.drv"
	a := write("a.json", testRecord(drv, "a"))
	same := write("same.json", testRecord(drv, "a"))
	differs := write("b.json", testRecord(drv, "b"))
	inputs := write("c.json", testRecord("/nix/store/11111111111111111111111111111111-image.tar.drv", "a"))
	if code, out, errs := runCLI(t, "verify", a, same); code != 0 || !strings.Contains(out, "reproducible: 2 builds") {
		t.Errorf("same: exit %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI(t, "verify", a, differs); code != 1 || !strings.Contains(out, "configDigest") {
		t.Errorf("differs: exit %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "verify", "--json", a, inputs); code != 1 || !strings.Contains(out, `"same": false`) {
		t.Errorf("inputs: exit %d %q", code, out)
	}
	if code, _, _ := runCLI(t, "verify", a); code != 2 {
		t.Errorf("one record: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, "verify", a, same, "--image", "x"); code != 2 {
		t.Errorf("one --image for two records: exit %d, want 2", code)
	}
	bad := filepath.Join(tmp, "bad.json")
	if code, _, errs := runCLI(t, "verify", a, bad); code != 3 || !strings.Contains(errs, "bad.json") {
		t.Errorf("missing record: exit %d %q", code, errs)
	}
}

// TestVerifyPolicyFlags: --min-hosts asks for separate machines (two
// records from one host do not meet 2), --min-builders below 1 is a usage
// error, and --min-builders 3 is not met by two builders.
func TestVerifyPolicyFlags(t *testing.T) {
	tmp := t.TempDir()
	drv := "/nix/store/00000000000000000000000000000000-image.tar.drv"
	var paths []string
	for _, name := range []string{"a.json", "b.json"} {
		p := filepath.Join(tmp, name)
		if err := record.Write(p, testRecord(drv, "a")); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if code, out, errs := runCLI(t, append([]string{"verify"}, paths...)...); code != 0 {
		t.Fatalf("two builds on one host: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, append([]string{"verify", "--min-hosts", "2"}, paths...)...); code != ExitDiffers || !strings.Contains(out, "1 host(s), fewer than the 2 required") {
		t.Errorf("--min-hosts 2: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, append([]string{"verify", "--min-builders", "3"}, paths...)...); code != ExitDiffers || !strings.Contains(out, "fewer than the 3 required") {
		t.Errorf("--min-builders 3: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, append([]string{"verify", "--min-builders", "0"}, paths...)...); code != ExitUsage {
		t.Errorf("--min-builders 0: exit %d, want %d", code, ExitUsage)
	}
}
