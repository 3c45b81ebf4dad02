package action

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runnerFiles are the files the Actions runner hands a step.
type runnerFiles struct {
	env    map[string]string
	stdout bytes.Buffer
	dir    string
	runner *Runner
}

func newRunnerFiles(t *testing.T) *runnerFiles {
	t.Helper()
	dir := t.TempDir()
	f := &runnerFiles{dir: dir, env: map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"GITHUB_ENV":          filepath.Join(dir, "env"),
		"RUNNER_TEMP":         filepath.Join(dir, "temp"),
		"GITHUB_JOB":          "build",
		"ImageOS":             "ubuntu24",
		"RUNNER_NAME":         "GitHub Actions 7",
	}}
	r, err := NewRunner(&f.stdout, func(k string) string { return f.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	f.runner = r
	return f
}

func (f *runnerFiles) read(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// ParseFileCommands reads a GITHUB_OUTPUT or GITHUB_ENV file as the runner
// does: NAME<<DELIMITER lines, the value, the delimiter.
func parseFileCommands(t *testing.T, s string) map[string]string {
	t.Helper()
	out, err := ParseFileCommands(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunnerOutputsSummaryAnnotations(t *testing.T) {
	f := newRunnerFiles(t)
	r := f.runner
	if err := r.SetOutput(OutputDigest, "sha256:abc"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetOutput(OutputReport, "line one\nline two"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetEnv("NIXDOCK_DIGEST", "sha256:abc"); err != nil {
		t.Fatal(err)
	}
	if err := r.AddSummary("## hello\n"); err != nil {
		t.Fatal(err)
	}
	out := parseFileCommands(t, f.read(t, "output"))
	if out[OutputDigest] != "sha256:abc" || out[OutputReport] != "line one\nline two" {
		t.Errorf("outputs %q", out)
	}
	if e := parseFileCommands(t, f.read(t, "env")); e["NIXDOCK_DIGEST"] != "sha256:abc" {
		t.Errorf("env %q", e)
	}
	if s := f.read(t, "summary"); !strings.Contains(s, "## hello") {
		t.Errorf("summary %q", s)
	}
	end := r.Group("nix build")
	r.Error(Annotation{File: "nix/a.nix", Title: "Unreproducible: a, b", Message: "50% of\nfiles"})
	end()
	want := "::group::nix build\n::error file=nix/a.nix,title=Unreproducible%3A a%2C b::50%25 of%0Afiles\n::endgroup::\n"
	if got := f.stdout.String(); got != want {
		t.Errorf("stdout\n%s\nwant\n%s", got, want)
	}
}

func TestRunnerMasksSecretsFirst(t *testing.T) {
	f := newRunnerFiles(t)
	f.env["INPUT_COSIGN-PASSWORD"] = "pa55\nword2"
	f.env["INPUT_GITHUB-TOKEN"] = "ghs_token"
	f.runner.MaskSecrets()
	want := "::add-mask::pa55\n::add-mask::word2\n::add-mask::ghs_token\n"
	if got := f.stdout.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestRunnerNeedsTheRunnerFiles(t *testing.T) {
	_, err := NewRunner(&bytes.Buffer{}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT is not set") {
		t.Errorf("error %v", err)
	}
}

func TestRunnerUnwritableFileIsAnError(t *testing.T) {
	f := newRunnerFiles(t)
	f.env["GITHUB_OUTPUT"] = filepath.Join(f.dir, "missing", "dir", "output")
	err := f.runner.SetOutput("x", "y")
	if err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") {
		t.Errorf("error %v", err)
	}
}

func TestArtifactName(t *testing.T) {
	f := newRunnerFiles(t)
	if got := f.runner.ArtifactName("nixdock"); got != "nixdock-build-build-ubuntu24-GitHub-Actions-7" {
		t.Errorf("ArtifactName = %q", got)
	}
}

func TestTempDir(t *testing.T) {
	f := newRunnerFiles(t)
	dir, err := f.runner.TempDir("build")
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(f.dir, "temp", "nixdock", "build") {
		t.Errorf("TempDir = %s", dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("not created: %v", err)
	}
}

func TestFindRecords(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{
		"nixdock-build-a/record.json", "nixdock-build-a/sbom.spdx.json", "nixdock-build-a/image/index.json",
		"nixdock-build-b/record.json", "loose/x.record.json", "loose/notes.txt",
	} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := FindRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loose/x.record.json", "nixdock-build-a/record.json", "nixdock-build-b/record.json"}
	if len(got) != len(want) {
		t.Fatalf("FindRecords = %q", got)
	}
	for i := range want {
		if got[i] != filepath.Join(dir, want[i]) {
			t.Errorf("FindRecords[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	g, err := FindRecords(filepath.Join(dir, "*", "record.json"))
	if err != nil || len(g) != 2 {
		t.Errorf("glob: %q %v", g, err)
	}
	if _, err := FindRecords(filepath.Join(dir, "none", "*.json")); err == nil || !strings.Contains(err.Error(), "input records") {
		t.Errorf("no match: %v", err)
	}
}
