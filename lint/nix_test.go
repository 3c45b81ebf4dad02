package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/golden"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The images of testdata/nix/lint.nix and exactly the rules each triggers.
var lintImages = []struct {
	attr  string
	rules []string
}{
	{"clean", nil},
	{"badConfig", []string{"config-env", "config-type", "config-unknown-key", "config-no-command", "runtime-tmp"}},
	{"execMissing", []string{"config-exec-missing", "runtime-tmp"}},
	{"execMode", []string{"config-exec-mode", "runtime-tmp"}},
	{"badRuntime", []string{"config-exec-interpreter", "runtime-ca-certs", "runtime-passwd", "runtime-locale",
		"runtime-nsswitch", "runtime-services", "runtime-tmp"}},
	{"badSize", []string{"runtime-tmp", "size-duplicate", "size-symlink-loop", "size-single-layer"}},
	{"badHazard", []string{"hazard-created", "hazard-history-date", "hazard-mtime", "hazard-owner", "hazard-unpinned-base"}},
}

// clockDate matches dates read from the clock (created = "now"), which
// differ on every build.
var clockDate = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z`)

func TestNixImages(t *testing.T) {
	nixtest.Require(t)
	schema := compileSARIFSchema(t)
	covered := map[string]bool{}
	for _, tc := range lintImages {
		t.Run(tc.attr, func(t *testing.T) {
			img := buildImage(t, tc.attr)
			res, err := RunImage(context.Background(), img.Image,
				ImageInfo{Source: "lint.nix#" + tc.attr, Form: string(img.Form)},
				Options{ArtifactURI: "testdata/nix/lint.nix"})
			if err != nil {
				t.Fatal(err)
			}
			got := ids(res)
			want := slices.Clone(tc.rules)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("rules = %v\nwant    %v", got, want)
			}
			if res.Failed() != (len(tc.rules) > 0) {
				t.Errorf("Failed() = %v with %d rules", res.Failed(), len(tc.rules))
			}
			for _, id := range got {
				covered[id] = true
			}
			checkGoldens(t, tc.attr, res, schema)
		})
	}
	for _, r := range Rules {
		if !covered[r.ID] && !t.Failed() {
			t.Errorf("rule %s is triggered by no image of testdata/nix/lint.nix", r.ID)
		}
	}
}

// buildImage builds lint.nix -A attr and opens it. It does not use
// nixtest.Build, whose build record needs a config that parses: badConfig's
// does not, on purpose.
func buildImage(t *testing.T, attr string) *image.Image {
	t.Helper()
	nix := nixtest.Nix(t, "")
	out, err := nix.Build(context.Background(), record.Installable{File: nixtest.File("lint.nix"), Attr: attr})
	if err != nil {
		t.Fatalf("building lint.nix -A %s: %v", attr, err)
	}
	img, err := image.Open(context.Background(), out.OutPath, image.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", out.OutPath, err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func checkGoldens(t *testing.T, attr string, res *Result, schema *jsonschema.Schema) {
	for _, f := range []struct {
		ext   string
		write func(*bytes.Buffer) error
	}{
		{"txt", func(b *bytes.Buffer) error { return res.WriteText(b) }},
		{"json", func(b *bytes.Buffer) error { return res.WriteJSON(b) }},
		{"sarif", func(b *bytes.Buffer) error { return res.WriteSARIF(b) }},
		{"md", func(b *bytes.Buffer) error { return res.WriteMarkdown(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatal(err)
		}
		switch f.ext {
		case "sarif":
			validate(t, schema, b.Bytes())
		case "json":
			var doc map[string]any
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc["schema"] != Schema {
				t.Fatalf("JSON output: %v, schema %v", err, doc["schema"])
			}
		}
		golden.Check(t, filepath.Join("testdata", attr+"."+f.ext+".golden"), clockDate.ReplaceAll(b.Bytes(), []byte("<clock>")), *update)
	}
}

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, doc []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("SARIF output does not validate against SARIF 2.1.0: %v", err)
	}
}
