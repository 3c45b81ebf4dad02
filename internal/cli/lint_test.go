package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
)

func lintImage(t *testing.T, attr string) string {
	t.Helper()
	nixtest.Require(t)
	nix := nixtest.Nix(t, "")
	res, err := nix.Build(context.Background(), record.Installable{File: nixtest.File("lint.nix"), Attr: attr})
	if err != nil {
		t.Fatalf("building lint.nix -A %s: %v", attr, err)
	}
	return res.OutPath
}

func TestLintExitCodes(t *testing.T) {
	clean := lintImage(t, "clean")
	bad := lintImage(t, "badConfig")
	code, out, errs := runCLI(t, "lint", clean)
	if code != ExitOK || !strings.Contains(out, "no findings") {
		t.Fatalf("clean image: exit %d, out %q, err %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "lint", "--json", bad)
	var doc struct {
		Schema   string `json:"schema"`
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
	}
	if code != ExitDiffers || json.Unmarshal([]byte(out), &doc) != nil || doc.Schema != "nixdock.dev/lint/v1" || len(doc.Findings) == 0 {
		t.Fatalf("bad image --json: exit %d, %s", code, out)
	}
	code, out, _ = runCLI(t, "lint", "--sarif", "--artifact", "flake.nix", bad)
	if code != ExitDiffers || !strings.Contains(out, `"version": "2.1.0"`) || !strings.Contains(out, `"uri": "flake.nix"`) {
		t.Fatalf("bad image --sarif: exit %d, %.300s", code, out)
	}
	code, out, _ = runCLI(t, "lint", "--markdown", bad)
	if code != ExitDiffers || !strings.HasPrefix(out, "### nixdock lint") {
		t.Fatalf("bad image --markdown: exit %d, %.300s", code, out)
	}
}

func TestLintUsageAndFailure(t *testing.T) {
	if code, _, _ := runCLI(t, "lint", "--json", "--sarif", "x.tar"); code != ExitUsage {
		t.Errorf("--json --sarif: exit %d, want %d", code, ExitUsage)
	}
	if code, _, _ := runCLI(t, "lint", "--source-date-epoch", "yesterday", "x.tar"); code != ExitUsage {
		t.Errorf("bad --source-date-epoch: exit %d, want %d", code, ExitUsage)
	}
	missing := filepath.Join(t.TempDir(), "missing.tar")
	code, _, errs := runCLI(t, "lint", missing)
	if code != ExitFailure || !strings.Contains(errs, missing) {
		t.Errorf("missing image: exit %d, stderr %q", code, errs)
	}
}
