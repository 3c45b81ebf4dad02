package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// reusableRef is the job_workflow_ref of the reusable workflow's jobs.
const reusableRef = "nixdock/nixdock-action/.github/workflows/nixdock.yml@refs/tags/v1"

// standInSigstore starts stand-ins for the two services keyless signing
// talks to, offline: GitHub's OIDC token endpoint (a token for a job of
// workflow ref in run 42 of octo/hello) and Fulcio (the test CA). It
// returns the runner's token variables and Fulcio's URL.
func standInSigstore(t *testing.T, ca *recsigtest.CA, ref string) (map[string]string, string) {
	t.Helper()
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":%q}`, recsigtest.Token(ref, "octo/hello", "42"))
	}))
	t.Cleanup(tokens.Close)
	fulcio := httptest.NewServer(ca.Fulcio())
	t.Cleanup(fulcio.Close)
	return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": tokens.URL + "/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"}, fulcio.URL
}

// TestSignRecordKeyless: `build --sign-record`'s signing, through
// KeylessSigner, a stand-in token endpoint and a stand-in Fulcio, writes a
// signature that verifies as the workflow's identity with the run's URI.
func TestSignRecordKeyless(t *testing.T) {
	ca := recsigtest.NewCA()
	env, fulcio := standInSigstore(t, ca, reusableRef)
	p := filepath.Join(t.TempDir(), "record.json")
	if err := record.Write(p, testRecord("/nix/store/00000000000000000000000000000000-image.tar.drv", "a")); err != nil {
		t.Fatal(err)
	}
	out, err := signRecord(context.Background(), p, sign.KeylessOptions{FulcioURL: fulcio, Getenv: func(k string) string { return env[k] }})
	if err != nil || out != p+".sigstore.json" {
		t.Fatalf("signRecord: %q, %v", out, err)
	}
	roots, inter, _ := recsig.LoadTrust(ca.RootPEM)
	_, ids, err := readSignedRecords([]string{p}, &recsig.Options{Roots: roots, Intermediates: inter,
		Identity: "https://github.com/" + reusableRef, Issuer: testIssuer})
	want := "https://github.com/" + reusableRef + " (run https://github.com/octo/hello/actions/runs/42/attempts/1)"
	if err != nil || len(ids) != 1 || ids[0] != want {
		t.Fatalf("verified identities %q, %v; want %q", ids, err, want)
	}
}

// TestActionSignedRecords: in keyless mode each build job signs its own
// record with its OIDC identity; verify checks each signature against the
// reusable workflow's identity (NIXDOCK_SIGNER_WORKFLOW_REF) and reports
// each builder as signed; a record edited after signing fails verify.
func TestActionSignedRecords(t *testing.T) {
	nixtest.Require(t)
	ca := recsigtest.NewCA()
	env, fulcio := standInSigstore(t, ca, reusableRef)
	actionFulcioURL, actionRecordTrust = fulcio, ca.RootPEM
	t.Cleanup(func() { actionFulcioURL, actionRecordTrust = "", nil })
	for k, v := range env {
		t.Setenv(k, v)
	}
	r := newRunner(t)
	builds := r.buildJobs("hello.nix", "image", "verify", "tampered")
	for _, b := range builds {
		if _, err := os.Stat(b.outputs[action.OutputRecord] + ".sigstore.json"); err != nil || !strings.Contains(b.summary, "record signature") {
			t.Fatalf("build job left no record signature: %v", err)
		}
	}
	t.Setenv(action.EnvSignerWorkflowRef, reusableRef)
	v := r.step("verify", map[string]string{"mode": "verify"})
	if v.code != 0 || v.outputs[action.OutputReproducible] != "true" {
		t.Fatalf("verify: exit %d: %s", v.code, v.stderr)
	}
	report := readFile(t, v.outputs[action.OutputReport])
	if n := strings.Count(report, `"identity": "signed by https://github.com/`+reusableRef); n != 2 {
		t.Errorf("%d builders signed by the reusable workflow in the report, want 2:\n%.2000s", n, report)
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
	t.Setenv(action.EnvSignerWorkflowRef, "")
	if x := r.step("tampered", requireSigned); x.code != ExitFailure || !strings.Contains(x.stderr, "require-signed-records") {
		t.Errorf("signed records required, no signing workflow: exit %d: %s", x.code, x.stderr)
	}
	t.Setenv(action.EnvSignerWorkflowRef, reusableRef)
	if err := os.WriteFile(records[1]+".sigstore.json", []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}

	// An edited record under its signature: verify refuses it.
	if err != nil || len(records) != 2 {
		t.Fatalf("records %v, %v", records, err)
	}
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
