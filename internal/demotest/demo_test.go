package demotest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/internal/schematest"
)

// TestDemo runs scripts/demo into a directory of its own, with cosign
// v2.6.5 and v3.1.3 on the PATH: the demo succeeds, both cosign CLIs
// verify its image's signature and its reproducibility, SBOM and SLSA
// attestations, its SBOMs are valid against the official SPDX 2.3 and
// CycloneDX 1.6 schemas, and its report says reproducible.
func TestDemo(t *testing.T) {
	nixtest.Require(t)
	cosign := nixtest.RequireTool(t, "cosign")
	cosign3 := nixtest.RequireTool(t, "cosign3")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Its own nixdock, not the checkout's out/nixdock (scripts/setup demo).
	nixdock := filepath.Join(t.TempDir(), "nixdock")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", nixdock, "./cmd/nixdock")
	build.Dir = nixtest.Root()
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(nixtest.Root(), "scripts", "demo"))
	cmd.Env = append(os.Environ(), "DEMO_OUT="+out, "DEMO_COSIGN="+cosign+" "+cosign3, "DEMO_NIXDOCK="+nixdock)
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/demo: %v\n%s", err, tail(string(log)))
	}
	text := string(log)
	for _, want := range []string{"(" + cosign + ", v2.", "(" + cosign3 + ", v3."} {
		i := strings.Index(text, want)
		if i < 0 || !strings.Contains(text[i:], "all verified") {
			t.Errorf("the demo did not verify with %q:\n%s", want, tail(text))
		}
	}
	if n := strings.Count(text, "all verified"); n != 2 {
		t.Errorf("%d cosign CLIs verified the demo's image, want 2", n)
	}

	spdx, cdx := schematest.SPDX(t), schematest.CycloneDX(t)
	for _, f := range []struct {
		name   string
		schema *jsonschema.Schema
	}{{"sbom.spdx.json", spdx}, {"sbom-meta.spdx.json", spdx}, {"sbom.cdx.json", cdx}} {
		data, err := os.ReadFile(filepath.Join(out, f.name))
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, f.schema, f.name, data)
	}

	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Reproducible bool `json:"reproducible"`
	}
	if err := json.Unmarshal(data, &rep); err != nil || !rep.Reproducible {
		t.Errorf("report.json: reproducible %v (%v)", rep.Reproducible, err)
	}
}

func tail(s string) string {
	if len(s) > 8000 {
		return "...\n" + s[len(s)-8000:]
	}
	return s
}
