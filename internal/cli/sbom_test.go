package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSBOMCommand(t *testing.T) {
	nixtest.Require(t)
	res := nixtest.Build(t, "", "hello.nix", "image")
	dir := t.TempDir()
	rec := filepath.Join(dir, "record.json")
	data, err := res.Record.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(rec, data, 0o644)
	summary := regexp.MustCompile(`(?m)^sbom: 2 components, 1 edges, (spdx-json|cyclonedx-json), \d+ bytes`)
	var first []byte
	for i, src := range []string{res.Image.Source, res.Image.Source, rec} {
		out := filepath.Join(dir, "sbom.json")
		code, _, stderr := runCLI(t, "sbom", src, "--format", "cyclonedx-json", "-o", out)
		if code != 0 || !summary.MatchString(stderr) {
			t.Fatalf("run %d: exit %d, stderr %q", i, code, stderr)
		}
		got, _ := os.ReadFile(out)
		switch i {
		case 0:
			first = got
		case 1:
			if !bytes.Equal(first, got) {
				t.Fatal("two runs on the same image gave different bytes")
			}
		}
	}
	code, stdout, _ := runCLI(t, "sbom", res.Image.Source, "--pretty")
	if code != 0 || !strings.Contains(stdout, "\n  \"spdxVersion\": \"SPDX-2.3\"") {
		t.Fatalf("--pretty spdx-json to stdout: exit %d, %.200q", code, stdout)
	}
}

func TestSBOMBadInput(t *testing.T) {
	dir := t.TempDir()
	notRecord := filepath.Join(dir, "other.json")
	os.WriteFile(notRecord, []byte(`{"schema": "something/else"}`), 0o644)
	garbage := filepath.Join(dir, "garbage.bin")
	os.WriteFile(garbage, []byte("not an image at all"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sbom", notRecord}, ExitFailure, "other.json"},
		{[]string{"sbom", garbage}, ExitFailure, "garbage.bin"},
		{[]string{"sbom", garbage, "--format", "xml"}, ExitUsage, "xml"},
		{[]string{"sbom"}, ExitUsage, "no SOURCE"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "error:") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q in one error", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
