package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/recsig/recsigtest"
	"github.com/nixdock/nixdock-action/sign"
)

const (
	// builderRef is the job_workflow_ref of the reusable workflow's build
	// jobs, builderSHA its commit (job_workflow_sha).
	builderRef = "nixdock/nixdock-action/.github/workflows/nixdock-build.yml@refs/tags/v1"
	builderSHA = "0123456789abcdef0123456789abcdef01234567"
	// builderWorkflow is what the reusable workflow's verify and publish
	// jobs expect of the records' signers (action.EnvBuilderWorkflow).
	builderWorkflow = "nixdock/nixdock-action/.github/workflows/nixdock-build.yml@" + builderSHA
)

// standInSigstore serves a stand-in token endpoint and Fulcio (the test
// CA) for a job of workflow ref at builderSHA in run 42 of octo/hello, as
// newRunner's environment says.
func standInSigstore(t *testing.T, ca *recsigtest.CA, ref string) recsigtest.Services {
	return ca.Serve(t, recsigtest.Claims{JobWorkflowRef: ref, JobWorkflowSHA: builderSHA, Repository: "octo/hello", RunID: "42"})
}

// TestSignRecordKeyless: `build --sign-record`'s signing, through
// KeylessSigner, a stand-in token endpoint and a stand-in Fulcio, writes a
// signature that verifies as the workflow's identity with the run's URI.
func TestSignRecordKeyless(t *testing.T) {
	ca := recsigtest.NewCA()
	svc := standInSigstore(t, ca, builderRef)
	p := filepath.Join(t.TempDir(), "record.json")
	if err := record.Write(p, testRecord("/nix/store/00000000000000000000000000000000-image.tar.drv", "a")); err != nil {
		t.Fatal(err)
	}
	out, err := signRecord(context.Background(), p, sign.KeylessOptions{FulcioURL: svc.FulcioURL, Getenv: func(k string) string { return svc.Env[k] }})
	if err != nil || out != p+".sigstore.json" {
		t.Fatalf("signRecord: %q, %v", out, err)
	}
	roots, inter, _ := recsig.LoadTrust(ca.RootPEM)
	_, ids, err := recsig.ReadRecords([]string{p}, &recsig.Options{Roots: roots, Intermediates: inter,
		Identity: "https://github.com/" + builderRef, Issuer: testIssuer})
	want := "https://github.com/" + builderRef + " (run https://github.com/octo/hello/actions/runs/42/attempts/1)"
	if err != nil || len(ids) != 1 || ids[0].String() != want {
		t.Fatalf("verified identities %q, %v; want %q", ids, err, want)
	}
}

// TestActionSignedRecords: in keyless mode each build job signs its own
// record with its OIDC identity; verify checks each signature against the
// builder workflow at its commit, in this run of this repository
// (action.EnvBuilderWorkflow), and reports each builder as signed; a record
// signed by another workflow, at another commit or in another run, or
// edited after signing, fails verify. The runner environment points
// nixdock at the stand-in Fulcio and its CA (action.EnvFulcioURL,
// action.EnvFulcioRoots), as the act test's runner does.
func TestActionSignedRecords(t *testing.T) {
	nixtest.Require(t)
	ca := recsigtest.NewCA()
	svc := standInSigstore(t, ca, builderRef)
	r := newRunner(t)
	for k, v := range svc.Env {
		t.Setenv(k, v)
	}
	t.Setenv(action.EnvFulcioURL, svc.FulcioURL)
	t.Setenv(action.EnvFulcioRoots, svc.RootsFile)
	builds := r.buildJobs("hello.nix", "image", "verify", "tampered")
	for _, b := range builds {
		if _, err := os.Stat(b.outputs[action.OutputRecord] + ".sigstore.json"); err != nil || !strings.Contains(b.summary, "record signature") {
			t.Fatalf("build job left no record signature: %v", err)
		}
	}
	t.Setenv(action.EnvBuilderWorkflow, builderWorkflow)
	v := r.step("verify", map[string]string{"mode": "verify"})
	if v.code != 0 || v.outputs[action.OutputReproducible] != "true" {
		t.Fatalf("verify: exit %d: %s", v.code, v.stderr)
	}
	report := readFile(t, v.outputs[action.OutputReport])
	if n := strings.Count(report, `"identity": "signed by https://github.com/`+builderRef); n != 2 {
		t.Errorf("%d builders signed by the builder workflow in the report, want 2:\n%.2000s", n, report)
	}
	// Signatures by the publisher's workflow file, by the builder workflow
	// at another commit, or from another run do not count: they fail.
	for _, c := range []struct{ env, value, want string }{
		{action.EnvBuilderWorkflow, "nixdock/nixdock-action/.github/workflows/nixdock.yml@" + builderSHA, "not the expected identity"},
		{action.EnvBuilderWorkflow, "nixdock/nixdock-action/.github/workflows/nixdock-build.yml@" + strings.Repeat("f", 40), "at commit"},
		{"GITHUB_RUN_ID", "43", "not in \"https://github.com/octo/hello/actions/runs/43/\""},
		{"GITHUB_REPOSITORY", "evil/hello", "not of \"https://github.com/evil/hello\""},
	} {
		old := os.Getenv(c.env)
		r.env = map[string]string{c.env: c.value}
		if x := r.step("verify", map[string]string{"mode": "verify"}); x.code != ExitFailure || !strings.Contains(x.stderr, c.want) {
			t.Errorf("%s=%s: exit %d, want %d and %q: %s", c.env, c.value, x.code, ExitFailure, c.want, x.stderr)
		}
		r.env = nil
		t.Setenv(c.env, old)
	}

	// Requiring signed records: both are, so verify passes; once one
	// record's signature is gone, only one builder counts and verify fails.
	requireSigned := map[string]string{"mode": "verify", "require-signed-records": "true"}
	if v := r.step("verify", requireSigned); v.code != 0 || v.outputs[action.OutputReproducible] != "true" {
		t.Fatalf("verify, signed records required: exit %d: %s", v.code, v.stderr)
	}
	records, err := action.FindRecords(filepath.Join(r.temp("tampered"), "nixdock", "artifacts"))
	if err != nil || len(records) != 2 {
		t.Fatalf("records %v, %v", records, err)
	}
	sig := readFile(t, records[1]+".sigstore.json")
	if err := os.Remove(records[1] + ".sigstore.json"); err != nil {
		t.Fatal(err)
	}
	if x := r.step("tampered", requireSigned); x.code != ExitDiffers || x.outputs[action.OutputReproducible] == "true" || !strings.Contains(x.stderr+x.summary, "the record is not signed by its builder") {
		t.Errorf("one unsigned record, signed records required: exit %d, reproducible=%q: %s\n%s", x.code, x.outputs[action.OutputReproducible], x.stderr, x.summary)
	}
	t.Setenv(action.EnvBuilderWorkflow, "")
	if x := r.step("tampered", requireSigned); x.code != ExitFailure || !strings.Contains(x.stderr, "require-signed-records") {
		t.Errorf("signed records required, no builder workflow: exit %d: %s", x.code, x.stderr)
	}
	t.Setenv(action.EnvBuilderWorkflow, builderWorkflow)
	if err := os.WriteFile(records[1]+".sigstore.json", []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}

	// An edited record under its signature: verify refuses it.
	data := readFile(t, records[1])
	edited := strings.Replace(data, `"runner-b"`, `"runner-z"`, 1)
	if edited == data {
		t.Fatal("no builder name to edit in the record")
	}
	if err := os.WriteFile(records[1], []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if x := r.step("tampered", map[string]string{"mode": "verify"}); x.code != ExitFailure || !strings.Contains(x.stderr, "signed bytes differ") {
		t.Errorf("tampered record: exit %d: %s", x.code, x.stderr)
	}
}
