package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sbom"
	"github.com/nixdock/nixdock-action/sign"
)

// runner is one Actions step as the runner sets it up: INPUT_* variables,
// the GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_ENV files, RUNNER_TEMP,
// and GITHUB_WORKSPACE (a copy of testdata/nix under nix/) as the working
// directory. Each job (a runner machine) has its own RUNNER_TEMP.
type runner struct {
	t         *testing.T
	dir       string
	workspace string
	// env overrides the runner environment step sets (another run, say).
	env map[string]string
}

const testNixOptions = "substituters=\nsandbox-paths=/bin /usr /lib /lib64"

func newRunner(t *testing.T) *runner {
	t.Helper()
	dir := t.TempDir()
	r := &runner{t: t, dir: dir, workspace: filepath.Join(dir, "workspace")}
	if err := os.CopyFS(filepath.Join(r.workspace, "nix"), os.DirFS(nixtest.File("."))); err != nil {
		t.Fatal(err)
	}
	t.Chdir(r.workspace)
	// Whatever the publish mode exports is restored after the test.
	for _, k := range []string{"GITHUB_TOKEN", "COSIGN_PASSWORD", "DOCKER_CONFIG"} {
		t.Setenv(k, os.Getenv(k))
	}
	return r
}

type stepResult struct {
	code           int
	stdout, stderr string
	outputs        map[string]string
	env            map[string]string
	summary        string
}

// step runs `nixdock action` in-process with inputs, as a step with its
// own output files; job names the job (and so the artifact name).
func (r *runner) step(job string, inputs map[string]string) stepResult {
	t := r.t
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "INPUT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	stepDir, err := os.MkdirTemp(r.dir, "step-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.temp(job), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, v := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV"} {
		files[v] = filepath.Join(stepDir, strings.ToLower(v))
		if err := os.WriteFile(files[v], nil, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv(v, files[v])
	}
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "RUNNER_TEMP": r.temp(job), "GITHUB_WORKSPACE": r.workspace,
		"GITHUB_JOB": job, "RUNNER_NAME": "runner-" + job, "ImageOS": "ubuntu24",
		"GITHUB_REPOSITORY": "octo/hello", "GITHUB_REPOSITORY_OWNER": "octo", "GITHUB_RUN_ID": "42", "GITHUB_ACTOR": "octo",
	} {
		t.Setenv(k, v)
	}
	for k, v := range r.env {
		t.Setenv(k, v)
	}
	for k, v := range inputs {
		t.Setenv(action.EnvName(k), v)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"action"}, &stdout, &stderr)
	res := stepResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	res.outputs = parseFileCommands(t, readFile(t, files["GITHUB_OUTPUT"]))
	res.env = parseFileCommands(t, readFile(t, files["GITHUB_ENV"]))
	res.summary = readFile(t, files["GITHUB_STEP_SUMMARY"])
	t.Logf("step %s (exit %d)\nstdout:\n%s\nstderr:\n%s\nsummary:\n%s", job, code, res.stdout, res.stderr, res.summary)
	return res
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// parseFileCommands reads GITHUB_OUTPUT or GITHUB_ENV as the runner does.
func parseFileCommands(t *testing.T, s string) map[string]string {
	t.Helper()
	out, err := action.ParseFileCommands(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// temp is the RUNNER_TEMP of job.
func (r *runner) temp(job string) string { return filepath.Join(r.dir, "runner-"+job) }

// download copies a build step's upload directory where action.yml's
// download-artifact step puts it in job: RUNNER_TEMP/nixdock/artifacts/NAME.
func (r *runner) download(job string, build stepResult) {
	r.t.Helper()
	name, dir := build.outputs[action.StepOutputArtifact], build.outputs[action.StepOutputUploadDir]
	if name == "" || dir == "" {
		r.t.Fatalf("build step set no artifact (%q) or upload-dir (%q)", name, dir)
	}
	if err := os.CopyFS(filepath.Join(r.temp(job), "nixdock", "artifacts", name), os.DirFS(dir)); err != nil {
		r.t.Fatal(err)
	}
}

// buildInputs are a build mode's inputs for FILE -A ATTR in store.
func buildInputs(file, attr, store string) map[string]string {
	return map[string]string{
		"mode": "build", "file": "nix/" + file, "attr": attr, "store": store,
		"nix-options": testNixOptions, "sbom-format": "spdx-json",
	}
}

// buildJobs runs the build mode for FILE -A ATTR in jobs a and b, each
// with its own store, and downloads both artifacts into each of the jobs
// downloadTo, as action.yml's download-artifact step does.
func (r *runner) buildJobs(file, attr string, downloadTo ...string) []stepResult {
	r.t.Helper()
	var builds []stepResult
	for _, job := range []string{"a", "b"} {
		res := r.step(job, buildInputs(file, attr, nixtest.NewStore(r.t)))
		if res.code != 0 {
			r.t.Fatalf("build %s: exit %d: %s", job, res.code, res.stderr)
		}
		for _, to := range downloadTo {
			r.download(to, res)
		}
		builds = append(builds, res)
	}
	return builds
}

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestActionBuildThenVerify(t *testing.T) {
	nixtest.Require(t)
	r := newRunner(t)
	builds := r.buildJobs("hello.nix", "image", "verify", "verify3")
	b := builds[0]
	// Outputs: the record, its digest, the SBOM.
	rec, err := record.Read(b.outputs[action.OutputRecord])
	if err != nil {
		t.Fatalf("record output: %v", err)
	}
	if d := b.outputs[action.OutputDigest]; !sha256Digest.MatchString(d) || d != rec.Image.ManifestDigest {
		t.Errorf("digest output %q, record says %s", d, rec.Image.ManifestDigest)
	}
	if b.env["NIXDOCK_DIGEST"] != rec.Image.ManifestDigest || b.env["NIXDOCK_RECORD"] != b.outputs[action.OutputRecord] {
		t.Errorf("GITHUB_ENV %v", b.env)
	}
	if s := readFile(t, b.outputs[action.OutputSBOM]); !strings.Contains(s, `"spdxVersion"`) || !strings.Contains(s, "hello-2.12.1") ||
		!strings.Contains(s, `"Organization: octo"`) {
		t.Errorf("sbom output %s: %.200s", b.outputs[action.OutputSBOM], s)
	}
	if got := b.outputs[action.StepOutputArtifact]; got != "nixdock-build-a-ubuntu24-runner-a" {
		t.Errorf("artifact name %q", got)
	}
	// The uploaded image is the image the record describes, byte for byte.
	img, err := image.Open(context.Background(), b.outputs[action.StepOutputImageDir], image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d.String() != rec.Image.ManifestDigest {
		t.Errorf("uploaded image digest %s, record %s", d, rec.Image.ManifestDigest)
	}
	img.Close()
	// Log groups around the build, the summary with the verdict and digest.
	if !strings.Contains(b.stdout, "::group::nix build -f nix/hello.nix -A image\n") || !strings.Contains(b.stdout, "::endgroup::") {
		t.Errorf("no log group for the build:\n%s", b.stdout)
	}
	for _, want := range []string{"## 📦 nixdock build: built", rec.Image.ManifestDigest, "| runner-a", "- record: `" + b.outputs[action.OutputRecord]} {
		if !strings.Contains(b.summary, want) {
			t.Errorf("build summary lacks %q", want)
		}
	}
	// The built image is linted: hello's #!/bin/sh and the missing /tmp are
	// findings, shown in the summary, counted in the lint output, and advice
	// only (the step succeeded).
	assertLintSection(t, "build", b)

	v := r.step("verify", map[string]string{"mode": "verify"})
	if v.code != 0 {
		t.Fatalf("verify: exit %d: %s", v.code, v.stderr)
	}
	if v.outputs[action.OutputReproducible] != "true" || v.outputs[action.OutputDigest] != rec.Image.ManifestDigest {
		t.Errorf("verify outputs %v", v.outputs)
	}
	if s := readFile(t, v.outputs[action.OutputReport]); !strings.Contains(s, `"schema": "nixdock.dev/report/v1"`) || !strings.Contains(s, `"reproducible": true`) {
		t.Errorf("report %.300s", s)
	}
	for _, want := range []string{"## ✅ nixdock verify: reproducible", "| runner-a", "| runner-b", "<details><summary>Full report</summary>"} {
		if !strings.Contains(v.summary, want) {
			t.Errorf("verify summary lacks %q", want)
		}
	}
	assertLintSection(t, "verify", v)
	if strings.Contains(v.stdout, "::error") {
		t.Errorf("annotations on a reproducible image:\n%s", v.stdout)
	}

	// min-builders counts the records found.
	m := r.step("verify3", map[string]string{"mode": "verify", "min-builders": "3"})
	if m.code != ExitFailure || !strings.Contains(m.stderr, "input min-builders: found 2 build record(s)") {
		t.Errorf("min-builders 3: exit %d, %s", m.code, m.stderr)
	}
	if !strings.Contains(m.stdout, "::error title=nixdock verify failed::input min-builders") || !strings.Contains(m.summary, "nixdock verify: failed") {
		t.Errorf("failure not annotated or summarised:\n%s\n%s", m.stdout, m.summary)
	}
}

// culpritAnnotation is the error annotation of the random package's culprit.
var culpritAnnotation = regexp.MustCompile(`(?m)^::error file=nix/unreproducible\.nix,title=Unreproducible%3A salt-1\.0::/nix/store/[0-9a-z]{32}-salt-1\.0 is not reproducible \(likely cause: [^)]*random[^)]*\).*confirm with: `)

func TestActionVerifyUnreproducible(t *testing.T) {
	nixtest.Require(t)
	r := newRunner(t)
	builds := r.buildJobs("unreproducible.nix", "random", "verify", "publish")
	if builds[0].outputs[action.OutputDigest] == builds[1].outputs[action.OutputDigest] {
		t.Fatal("the random image built the same twice")
	}
	v := r.step("verify", map[string]string{"mode": "verify"})
	if v.code != ExitDiffers {
		t.Fatalf("verify: exit %d, want %d: %s", v.code, ExitDiffers, v.stderr)
	}
	if v.outputs[action.OutputReproducible] != "false" || v.outputs[action.OutputDigest] != "" || v.outputs[action.OutputReport] == "" {
		t.Errorf("outputs %v", v.outputs)
	}
	if !culpritAnnotation.MatchString(v.stdout) {
		t.Errorf("no culprit annotation for salt-1.0:\n%s", v.stdout)
	}
	for _, want := range []string{"## ❌ nixdock verify: not reproducible", "### Culprits", "-salt-1.0` | ", "random", "/share/salt"} {
		if !strings.Contains(v.summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}

	// publish refuses these records before pushing anything.
	p := r.step("publish", map[string]string{"mode": "publish", "image": "127.0.0.1:1/never/pushed", "key": "none.key"})
	if p.code != ExitFailure || !strings.Contains(p.stderr, "refusing to publish") {
		t.Errorf("publish of differing builds: exit %d, %s", p.code, p.stderr)
	}
	if strings.Contains(p.stdout, "::group::pushing") || p.outputs[action.OutputSBOM] != "" {
		t.Errorf("publish started pushing, or named an SBOM of a refused image (%v):\n%s", p.outputs, p.stdout)
	}
}

func TestActionReproduce(t *testing.T) {
	nixtest.Require(t)
	r := newRunner(t)
	ok := r.step("reproduce", map[string]string{
		"mode": "reproduce", "file": "nix/hello.nix", "attr": "image", "nix-options": testNixOptions,
	})
	if ok.code != 0 {
		t.Fatalf("reproduce hello: exit %d: %s", ok.code, ok.stderr)
	}
	if ok.outputs[action.OutputReproducible] != "true" || !sha256Digest.MatchString(ok.outputs[action.OutputDigest]) || ok.outputs[action.OutputSBOM] == "" {
		t.Errorf("outputs %v", ok.outputs)
	}
	if !strings.Contains(ok.summary, "## ✅ nixdock reproduce: reproducible") {
		t.Errorf("summary %s", ok.summary)
	}
	assertLintSection(t, "reproduce", ok)

	bad := r.step("reproduce2", map[string]string{
		"mode": "reproduce", "file": "nix/unreproducible.nix", "attr": "random", "nix-options": testNixOptions,
	})
	if bad.code != ExitDiffers {
		t.Fatalf("reproduce random: exit %d: %s", bad.code, bad.stderr)
	}
	if bad.outputs[action.OutputReproducible] != "false" || !culpritAnnotation.MatchString(bad.stdout) {
		t.Errorf("outputs %v; stdout:\n%s", bad.outputs, bad.stdout)
	}
	if !strings.Contains(bad.summary, "## ❌ nixdock reproduce: not reproducible") || !strings.Contains(bad.summary, "-salt-1.0") {
		t.Errorf("summary %s", bad.summary)
	}
}

func TestActionBadInputMasksSecretsFirst(t *testing.T) {
	r := newRunner(t)
	res := r.step("x", map[string]string{"mode": "deploy", "cosign-password": "hunter2", "github-token": "ghs_abc"})
	if res.code != ExitFailure {
		t.Errorf("exit %d, want %d", res.code, ExitFailure)
	}
	if !strings.HasPrefix(res.stdout, "::add-mask::hunter2\n::add-mask::ghs_abc\n") {
		t.Errorf("secrets not masked first:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "::error title=nixdock%3A bad input::input mode: \"deploy\" is not a mode") {
		t.Errorf("no annotation naming the input:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "nixdock: error: input mode:") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line naming the input", res.stderr)
	}
	if strings.Contains(res.stderr, "hunter2") || strings.Contains(res.summary, "hunter2") {
		t.Error("a secret leaked")
	}
}

func TestActionOutsideARunner(t *testing.T) {
	t.Setenv("GITHUB_OUTPUT", "")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"action"}, &stdout, &stderr)
	if code != ExitUsage || !strings.Contains(stderr.String(), "GITHUB_OUTPUT is not set") {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
}

func TestActionPublish(t *testing.T) {
	nixtest.Require(t)
	host := memRegistry(t)
	r := newRunner(t)
	digest := r.buildJobs("hello.nix", "image", "publish")[1].outputs[action.OutputDigest]
	keys, err := sign.GenerateKeys(filepath.Join(t.TempDir(), "cosign"), []byte("s3cret-pw"))
	if err != nil {
		t.Fatal(err)
	}
	p := r.step("publish", map[string]string{
		"mode": "publish", "image": host + "/octo/hello:v1", "key": keys.Private, "cosign-password": "s3cret-pw",
	})
	if p.code != 0 {
		t.Fatalf("publish: exit %d: %s", p.code, p.stderr)
	}
	pinned := host + "/octo/hello@" + digest
	if p.outputs[action.OutputImage] != pinned || p.outputs[action.OutputDigest] != digest || p.outputs[action.OutputReproducible] != "true" {
		t.Errorf("outputs %v, want image %s", p.outputs, pinned)
	}
	if s := readFile(t, p.outputs[action.OutputSBOM]); !strings.Contains(s, digest) {
		t.Errorf("the SBOM does not name the published digest: %.300s", s)
	} else if purl, _ := sbom.ImagePURL(pinned, ""); !strings.Contains(s, `"referenceLocator":"`+purl+`"`) {
		t.Errorf("the SBOM's image purl is not %s (the published image's): %.300s", purl, s)
	}
	if !strings.HasPrefix(p.stdout, "::add-mask::s3cret-pw\n") || strings.Count(p.stdout+p.stderr+p.summary, "s3cret-pw") != 1 {
		t.Errorf("password not masked first, or logged:\n%s", p.stdout)
	}
	for _, want := range []string{"## 🚀 nixdock publish: published", "Published `" + pinned + "`",
		"cosign verify --key cosign.pub --insecure-ignore-tlog " + pinned, "| runner-a", "| runner-b"} {
		if !strings.Contains(p.summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	assertLintSection(t, "publish", p)
	if !strings.Contains(p.summary, "**nixdock lint: `"+pinned+"`**") {
		t.Errorf("publish lint does not name the pushed image %s", pinned)
	}
	for _, want := range []string{"::group::pushing " + host + "/octo/hello:v1", "::group::signing and attesting " + pinned} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	// The tag points at the verified digest, and the signature verifies.
	ref, err := name.ParseReference(host + "/octo/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil || desc.Digest.String() != digest {
		t.Fatalf("registry has %v (%v), want %s", desc, err, digest)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"verify-signature", "--key", keys.Public, "--insecure-ignore-tlog", pinned}, &stdout, &stderr); code != 0 {
		t.Errorf("nixdock verify-signature: exit %d: %s", code, stderr.String())
	}
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
			t.Fatal("cosign is not installed, and NIXDOCK_REQUIRE_TOOLS=1")
		}
		t.Log("cosign is not installed: the cosign CLI check is left out")
		return
	}
	out, err := exec.Command(cosign, "verify", "--key", keys.Public, "--insecure-ignore-tlog", "--trusted-root", offlineTrustedRoot(t), "--allow-insecure-registry", pinned).CombinedOutput()
	if err != nil {
		t.Errorf("cosign verify: %v\n%s", err, out)
	}
}

// assertLintSection checks that a step linted hello's image: the findings
// in the summary's Lint section, their count in the lint output.
func assertLintSection(t *testing.T, step string, res stepResult) {
	t.Helper()
	for _, want := range []string{"### Lint\n", "`config-exec-interpreter`", "`runtime-tmp`", "1 error, 1 warning"} {
		if !strings.Contains(res.summary, want) {
			t.Errorf("%s summary lacks %q", step, want)
		}
	}
	if got := res.outputs[action.OutputLint]; got != "2" {
		t.Errorf("%s: lint output %q, want 2", step, got)
	}
}

// TestActionLintFail: with lint-fail: true, lint errors and warnings fail
// the step (exit 1, an error annotation), after the build's outputs are set.
func TestActionLintFail(t *testing.T) {
	nixtest.Require(t)
	r := newRunner(t)
	in := buildInputs("hello.nix", "image", "")
	in["lint-fail"] = "true"
	res := r.step("a", in)
	if res.code != ExitDiffers || !strings.Contains(res.stdout, "::error file=nix/hello.nix,title=nixdock lint::lint found 1 error(s) and 1 warning(s)") {
		t.Fatalf("lint-fail: exit %d, want %d with an annotation:\n%s", res.code, ExitDiffers, res.stdout)
	}
	if res.outputs[action.OutputRecord] == "" || !strings.Contains(res.summary, "## 📦 nixdock build: built") {
		t.Errorf("outputs %v; summary:\n%s", res.outputs, res.summary)
	}
	assertLintSection(t, "build", res)
}
