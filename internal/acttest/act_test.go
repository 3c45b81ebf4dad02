package acttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"gopkg.in/yaml.v3"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// standins are the local stand-ins (testdata/standins/DIR) for the actions
// GitHub hosts. act would clone them from GitHub and run their JavaScript;
// the test runs offline, so each is replaced by a small composite action
// doing the same job here (see each action.yml): every reference to them in
// the workflows, whatever its pinned commit, maps to the stand-in.
var standins = map[string]string{
	"actions/checkout":          "checkout",
	"actions/setup-go":          "setup-go",
	"actions/upload-artifact":   "upload-artifact",
	"actions/download-artifact": "download-artifact",
	"cachix/install-nix-action": "install-nix",
}

// TestPRCheckUnderAct runs the README's pull-request check (the reusable
// workflow, called as users call it) under act on this machine: two
// builders, each in a fresh Nix store of its own and signing its record
// with its keyless identity (stand-in token endpoint and Fulcio), verify,
// and an extra job that uploads a forged builder artifact. It asserts from
// act's log (job results, step summaries, outputs) that both builders ran
// the action from the workflow's commit, that verify found them
// reproducible with one digest and both records signed by
// nixdock-build.yml in this run, that the forged artifact was uploaded and
// never counted, and that the workflow's outputs reached the caller.
func TestPRCheckUnderAct(t *testing.T) {
	run := runPRCheck(t, "image", true)
	if run.err != nil {
		t.Fatalf("act: %v\n%s", run.err, run.log.text())
	}
	log := run.log
	// Every job ran and succeeded: source, both builders, verify, the
	// forger and the report (publish is skipped: not a tag).
	if n := log.results["success"]; n < 6 || len(log.results) != 1 {
		t.Errorf("job results %v, want 6 successes and nothing else\n%s", log.results, log.text())
	}
	sums := log.allSummaries()
	// The action ran from the workflow's own commit in each job that runs it.
	want := "checkout-standin: nixdock/nixdock-action at " + run.sha + " into .nixdock-action"
	if jobs := log.jobsSaying(want); len(jobs) != 3 {
		t.Errorf("jobs %q say %q, want 3 (build A, build B, verify)\n%s", jobs, want, sums)
	}
	// Each builder built in its own store.
	if len(run.stores) != 2 {
		t.Errorf("the image was built in %d stores (%q), want 2", len(run.stores), run.stores)
	}
	// The forged artifact was uploaded, so verify could have seen it.
	if !strings.Contains(log.raw, "uploaded nixdock-build-evil as artifact") {
		t.Errorf("the forged artifact was not uploaded\n%s", log.text())
	}
	m := regexp.MustCompile(`workflow-outputs reproducible=(\S*) digest=(\S*)`).FindStringSubmatch(sums)
	if m == nil || m[1] != "true" || !strings.HasPrefix(m[2], "sha256:") {
		t.Fatalf("the caller saw outputs %q, want reproducible=true and a digest\n%s", m, sums)
	}
	// Both builders output that digest, and verify compared exactly two.
	if n := strings.Count(log.raw, "built .#image: "+m[2]); n != 2 {
		t.Errorf("%d builders built %s, want 2\n%s", n, m[2], log.text())
	}
	if !strings.Contains(log.raw, "build A: record sha256") || !strings.Contains(log.raw, "build B: record sha256") {
		t.Errorf("verify did not check both downloads against the builders' hashes\n%s", log.text())
	}
	if !strings.Contains(strings.Join(log.lines, "\n"), "::group::comparing 2 build records") {
		t.Errorf("verify did not compare exactly 2 records\n%s", log.text())
	}
	// The summary's Markdown breaks "@" mentions with a zero-width space.
	verify := strings.ReplaceAll(strings.Join(log.summaries[log.jobNamed("verify")], "\n"), "\u200b", "")
	signed := "signed by https://github.com/" + builderRef + " (run https://github.com/" + callerRepository + "/actions/runs/" + actRunID + "/attempts/1)"
	if n := len(linesWith(verify, signed)); n != 2 {
		t.Errorf("verify reported %d builders %s, want 2\n%s", n, signed, verify)
	}
}

// TestPRCheckUnderActUnreproducible runs the same check on an image with
// random bytes in a file, without an OIDC token (as a fork's pull request
// runs: the records are unsigned): the builders succeed, verify fails the
// run and names the culprit store path in its summary, and the caller gets
// no reproducible output.
func TestPRCheckUnderActUnreproducible(t *testing.T) {
	run := runPRCheck(t, "random", false)
	log := run.log
	if run.err == nil {
		t.Fatalf("act succeeded on an unreproducible image\n%s", log.text())
	}
	verify := strings.Join(log.summaries[log.jobNamed("verify")], "\n")
	if !strings.Contains(verify, "not reproducible") || !strings.Contains(verify, "-salt-1.0") {
		t.Errorf("verify's summary does not say not reproducible, culprit salt-1.0:\n%s", verify)
	}
	if log.results["failure"] != 1 {
		t.Errorf("job results %v, want exactly one failure (verify)\n%s", log.results, log.text())
	}
	if strings.Contains(log.allSummaries(), "workflow-outputs") {
		t.Errorf("the report job ran after a failed verify\n%s", log.allSummaries())
	}
	if strings.Contains(verify, "signed by https://") || len(linesWith(verify, "self-reported")) != 2 {
		t.Errorf("without a token the records should be unsigned, reported self-reported\n%s", verify)
	}
}

// prCheckRun is one act run of a caller workflow.
type prCheckRun struct {
	err    error // act's exit
	log    *actLog
	sha    string   // the commit the action should be checked out at
	stores []string // the chroot stores that hold a built image
}

// runPRCheck runs the README's pull-request check on .#ATTR of
// testdata/nix/flake.nix, with the stand-in Sigstore or, like a fork's
// pull request, without an OIDC token.
func runPRCheck(t *testing.T, attr string, sigstore bool) *prCheckRun {
	t.Helper()
	return runCaller(t, callerRun{
		workflow: "pr-check.yml", readme: true, event: "pull_request", sigstore: sigstore,
		eventJSON: `{"number": 1, "pull_request": {"number": 1, "head": {"ref": "feature"}, "base": {"ref": "main"}}}`,
		replace:   map[string]string{"installable: .#image": "installable: .#" + attr},
	})
}

// callerRun is a workflow of testdata/caller run by act.
type callerRun struct {
	workflow  string            // file in testdata/caller
	readme    bool              // the file's jobs follow the README's pull-request check
	event     string            // the event act triggers, with eventJSON
	eventJSON string            // the event's payload
	replace   map[string]string // edits to the workflow
	secrets   []string          // NAME=VALUE
	// sigstore gives the jobs an OIDC token endpoint and a Fulcio (the
	// stand-ins), so builders sign their records keyless; without it the
	// run is like a fork's pull request, with no token.
	sigstore bool
}

// runCaller runs one of the caller workflows in a fresh caller repository.
func runCaller(t *testing.T, c callerRun) *prCheckRun {
	t.Helper()
	act := nixtest.RequireTool(t, "act")
	nixtest.Require(t)
	// What the stand-ins and act use on the host.
	for _, tool := range []string{"git", "curl", "jq", "zip", "unzip", "sha256sum"} {
		nixtest.RequireTool(t, tool)
	}
	root := repoRoot()
	caller := callerRepo(t, root, c)
	args := []string{c.event,
		"--workflows", filepath.Join(caller, ".github", "workflows", c.workflow),
		"--eventpath", writeEvent(t, c.eventJSON),
		"--json", "--action-offline-mode", "--pull=false",
		// Only act's artifact server listens, on loopback; no cache server.
		"--no-cache-server",
		"--artifact-server-addr", "127.0.0.1",
		"--artifact-server-port", freePort(t),
		"--artifact-server-path", t.TempDir(),
		"--local-repository", "nixdock/nixdock-action@v1=" + root,
	}
	for _, label := range runnerLabels(t, root) {
		args = append(args, "-P", label+"=-self-hosted")
	}
	refs := actionRefs(t, filepath.Join(root, "action.yml"), filepath.Join(root, ".github", "workflows", "nixdock.yml"),
		filepath.Join(root, ".github", "workflows", "nixdock-build.yml"), filepath.Join(caller, ".github", "workflows", c.workflow))
	for _, ref := range refs {
		name, _, _ := strings.Cut(ref, "@")
		dir, ok := standins[name]
		if !ok {
			t.Fatalf("no stand-in for %s: add one to testdata/standins", ref)
		}
		abs, err := filepath.Abs(filepath.Join("testdata", "standins", dir))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--local-repository", ref+"="+abs)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	sha := workflowSHA(root)
	storesDir := t.TempDir()
	env := []string{
		// act's run id; the stand-in tokens name the same run.
		"GITHUB_RUN_ID=" + actRunID,
		// job.workflow_* do not exist in act: the runner provides them
		// (see the source job of nixdock.yml).
		"NIXDOCK_WORKFLOW_REPOSITORY=nixdock/nixdock-action",
		"NIXDOCK_WORKFLOW_SHA=" + sha,
		"STANDIN_CALLER_SRC=" + caller,
		"STANDIN_NIXDOCK_SRC=" + root,
		"STANDIN_GO=" + goBin,
		"STANDIN_STORES=" + storesDir,
		"GOCACHE=" + goEnv(t, "GOCACHE"),
		"GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
		"GOPROXY=off",
		"GOTOOLCHAIN=local",
		// The runner's Nix configuration (cachix/install-nix-action
		// writes nix.conf): offline, and the test images' builders run
		// the host's shell (testdata/nix/lib.nix).
		"NIX_CONFIG=substituters =\nsandbox-paths = /bin /usr /lib /lib64",
	}
	if c.sigstore {
		env = append(env, standInSigstore(t, sha)...)
	}
	for _, kv := range env {
		args = append(args, "--env", kv)
	}

	for _, kv := range c.secrets {
		args = append(args, "--secret", kv)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = caller
	// act keeps its action cache and host workspaces under the cache home.
	cache := t.TempDir()
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("act ran for %s", time.Since(start).Round(time.Second))
	log := parseLog(t, stdout.Bytes())
	if runErr != nil {
		runErr = fmt.Errorf("%w\nstderr:\n%s", runErr, tail(stderr.String(), 4000))
	}
	// The install-nix stand-in's stores.
	stores, _ := filepath.Glob(filepath.Join(storesDir, "*"))
	var built []string
	for _, st := range stores {
		t.Cleanup(func() { nixtest.RemoveStore(st) })
		if m, _ := filepath.Glob(filepath.Join(st, "nix", "store", "*.tar*")); len(m) > 0 {
			built = append(built, st)
		}
	}
	return &prCheckRun{err: runErr, log: log, sha: sha, stores: built}
}

// callerRepo is a user's repository: the test image's Nix files and the
// pull-request workflow, committed, with a GitHub origin (act takes the
// repository's name from it).
func callerRepo(t *testing.T, root string, c callerRun) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "testdata", "nix"))); err != nil {
		t.Fatal(err)
	}
	wf, err := os.ReadFile(filepath.Join("testdata", "caller", c.workflow))
	if err != nil {
		t.Fatal(err)
	}
	if c.readme {
		wf = append(readmePRCheck(t, root), wf...)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	for old, repl := range c.replace {
		if !bytes.Contains(wf, []byte(old)) {
			t.Fatalf("%s has no %q", c.workflow, old)
		}
		wf = bytes.ReplaceAll(wf, []byte(old), []byte(repl))
	}
	if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", c.workflow), wf, 0o644); err != nil {
		t.Fatal(err)
	}
	// act v0.2.89 resolves a called workflow's own `uses:
	// ./.github/workflows/...` against the caller's repository
	// (nektos/act#1875, #5980); GitHub resolves it against the called
	// workflow's commit. So the caller gets a byte-for-byte copy of the
	// file nixdock.yml calls, from the checkout under test.
	nested, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "nixdock-build.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", "nixdock-build.yml"), nested, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", "https://github.com/example/app.git"},
		{"add", "-A"},
		{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "app"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return dir
}

// readmePRCheck is the YAML of the README's pull-request check, as a user
// copies it.
func readmePRCheck(t *testing.T, root string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const intro = "A pull-request check that builds the image on two runners and compares:\n\n```yaml\n"
	_, rest, ok := strings.Cut(string(data), intro)
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed || !strings.Contains(block, "nixdock.yml@v1") {
		t.Fatalf("README.md has no pull-request check after %q", intro)
	}
	return []byte(block)
}

func writeEvent(t *testing.T, ev string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// workflowSHA is the commit under test (the stand-in copies the working
// tree, so uncommitted changes are tested too).
func workflowSHA(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if s := strings.TrimSpace(string(out)); err == nil && len(s) == 40 {
		return s
	}
	return strings.Repeat("0", 40)
}

// runnerLabels are the labels the reusable workflow runs on: the literal
// runs-on values and the default runners input.
func runnerLabels(t *testing.T, root string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "nixdock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			WorkflowCall struct {
				Inputs map[string]struct{ Default string }
			} `yaml:"workflow_call"`
		} `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
		}
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var runners []string
	if err := json.Unmarshal([]byte(wf.On.WorkflowCall.Inputs["runners"].Default), &runners); err != nil || len(runners) != 2 {
		t.Fatalf("default runners %q: want a JSON list of two (%v)", wf.On.WorkflowCall.Inputs["runners"].Default, err)
	}
	for _, r := range runners {
		set[r] = true
	}
	for _, j := range wf.Jobs {
		if j.RunsOn != "" && !strings.Contains(j.RunsOn, "${{") {
			set[j.RunsOn] = true
		}
	}
	var labels []string
	for l := range set {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	return labels
}

// actionRefs are the remote actions (OWNER/NAME@REF) the files use, besides
// this project's own.
func actionRefs(t *testing.T, files ...string) []string {
	t.Helper()
	set := map[string]bool{}
	re := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*([^\s#]+)`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			if u := m[1]; !strings.HasPrefix(u, "./") && !strings.HasPrefix(u, "nixdock/nixdock-action") {
				set[u] = true
			}
		}
	}
	var refs []string
	for r := range set {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	if len(refs) < 4 {
		t.Fatalf("found only %q", refs)
	}
	return refs
}

// TestReleaseUnderAct runs examples/workflows/release.yml's call on a version
// tag with publish: true and a cosign key: after build (records signed
// keyless, stand-ins) and verify, the publish job downloads and checks both
// artifacts, requires both records signed by nixdock-build.yml, pushes
// build A's image to the test registry and signs it; the caller gets
// image@digest, the stock cosign CLI verifies the signature with the
// public key, and the summary's nixdock verify-signature check passes with
// its builder identity (nixdock-build.yml) and fails with nixdock.yml's.
func TestReleaseUnderAct(t *testing.T) {
	registry := nixtest.Registry(t)
	cosign := nixtest.RequireTool(t, "cosign")
	dir := t.TempDir()
	gen := exec.Command(cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release"))
	gen.Env = append(os.Environ(), "COSIGN_PASSWORD=act-test-password")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	key, err := os.ReadFile(filepath.Join(dir, "release.key"))
	if err != nil {
		t.Fatal(err)
	}
	repo := fmt.Sprintf("%s/acttest/hello-%d", registry, time.Now().UnixNano())
	run := runCaller(t, callerRun{
		workflow: "release.yml", event: "push",
		eventJSON: `{"ref": "refs/tags/v1.0.0"}`,
		replace:   map[string]string{"image: IMAGE": "image: " + repo},
		secrets:   []string{"COSIGN_KEY=" + string(key), "COSIGN_PASSWORD=act-test-password"},
		sigstore:  true,
	})
	if run.err != nil {
		t.Fatalf("act: %v\n%s", run.err, run.log.text())
	}
	// source, build A, build B, verify, publish, report.
	if n := run.log.results["success"]; n != 6 || len(run.log.results) != 1 {
		t.Errorf("job results %v, want 6 successes\n%s", run.log.results, run.log.text())
	}
	if jobs := run.log.jobsSaying("checkout-standin: nixdock/nixdock-action at " + run.sha); len(jobs) != 4 {
		t.Errorf("jobs %q ran the action from the workflow's commit, want 4 (with publish)", jobs)
	}
	m := regexp.MustCompile(`workflow-outputs image=(\S*) digest=(\S*)`).FindStringSubmatch(run.log.allSummaries())
	if m == nil || m[1] != repo+"@"+m[2] || !strings.HasPrefix(m[2], "sha256:") {
		t.Fatalf("the caller saw outputs %q, want %s@<digest>\n%s", m, repo, run.log.allSummaries())
	}
	if strings.Contains(run.log.raw, "act-test-password") || strings.Contains(run.log.raw, "PRIVATE KEY") {
		t.Error("the key or its password is in the log")
	}
	// cosign v2.6 verifies the Sigstore bundles, and offline needs a
	// trusted root for them (docs/attestations.md): an empty one.
	root := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := exec.Command(cosign, "verify", "--key", filepath.Join(dir, "release.pub"), "--insecure-ignore-tlog", "--trusted-root", root, m[1])
	verify.Env = append(os.Environ(), "TUF_ROOT="+t.TempDir())
	out, err := verify.CombinedOutput()
	if err != nil || !strings.Contains(string(out), m[2]) {
		t.Errorf("cosign verify %s: %v\n%s", m[1], err, out)
	}
	// The summary's nixdock check: the builders' records were signed by
	// the identity it names (nixdock-build.yml), and not by nixdock.yml.
	publish := strings.Join(run.log.summaries[run.log.jobNamed("publish")], "\n")
	re := regexp.MustCompile(`--builder-identity-regexp '([^']+)'`).FindStringSubmatch(publish)
	if re == nil {
		t.Fatalf("the publish summary has no nixdock verify-signature --builder-identity-regexp\n%s", publish)
	}
	nixdock := filepath.Join(t.TempDir(), "nixdock")
	build := exec.Command("go", "build", "-o", nixdock, "./cmd/nixdock")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		builders string
		code     int
		want     string
	}{
		{re[1], 0, "policy met"},
		{`^https://github\.com/nixdock/nixdock-action/\.github/workflows/nixdock\.yml@`, 1,
			"0 independent builder(s) agreed with records signed by an identity matching"},
	} {
		check := exec.Command(nixdock, "verify-signature", m[1], "--key", filepath.Join(dir, "release.pub"),
			"--insecure-ignore-tlog", "--min-builders", "2", "--builder-identity-regexp", c.builders)
		out, err := check.CombinedOutput()
		if code := check.ProcessState.ExitCode(); code != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("nixdock verify-signature --builder-identity-regexp %s: exit %d (%v), want %d and %q\n%s", c.builders, code, err, c.code, c.want, out)
		}
	}
}
