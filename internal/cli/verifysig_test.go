package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/sign"
)

// sigRegistry is the real registry when NIXDOCK_TEST_REGISTRY is set, else
// go-containerregistry's in-process one.
func sigRegistry(t *testing.T) string {
	if r := os.Getenv("NIXDOCK_TEST_REGISTRY"); r != "" {
		return r
	}
	return memRegistry(t)
}

// TestVerifySignatureSBOMArtifact: an SBOM over --sbom-inline-limit is
// attested by digest; verify-signature fetches the artifact and checks it,
// and fails the policy (exit 1) once the tag names another artifact.
func TestVerifySignatureSBOMArtifact(t *testing.T) {
	dir := t.TempDir()
	img, records := buildTwice(t, dir)
	t.Setenv(sign.PasswordEnv, testPassword)
	reg := sigRegistry(t)
	key := filepath.Join(dir, "cosign")
	if r := pubRun(t, "keygen", "--output-key-prefix", key); r.code != 0 {
		t.Fatalf("keygen: exit %d", r.code)
	}
	push := pubRun(t, "push", img, reg+"/nixdock-test/sbomart:v1", "--record", records[0])
	if push.code != 0 {
		t.Fatalf("push: exit %d", push.code)
	}
	ref := push.lastLine()
	spdx := filepath.Join("..", "..", "sign", "testdata", "sbom.spdx.json")
	if r := pubRun(t, "sign", ref, "--key", key+".key", "--records", records[0], records[1],
		"--attest-sbom", spdx, "--sbom-inline-limit", "1"); r.code != 0 || !strings.Contains(r.errOut, "attested by digest") {
		t.Fatalf("sign: exit %d", r.code)
	}
	verify := []string{"verify-signature", ref, "--key", key + ".pub", "--insecure-ignore-tlog"}
	v := pubRun(t, append(verify, "--json")...)
	var got struct {
		PolicyMet    bool                    `json:"policyMet"`
		SBOMArtifact *sign.SBOMArtifactCheck `json:"sbomArtifact"`
	}
	if err := json.Unmarshal([]byte(v.out), &got); err != nil {
		t.Fatal(err)
	}
	sbomData, _ := os.ReadFile(spdx)
	if v.code != 0 || !got.PolicyMet || got.SBOMArtifact == nil || !got.SBOMArtifact.Verified || got.SBOMArtifact.Size != int64(len(sbomData)) {
		t.Fatalf("verify-signature --json: exit %d, %+v", v.code, got)
	}
	if r := pubRun(t, verify...); r.code != 0 || !strings.Contains(r.out, "sbom artifact matches the attestation") {
		t.Errorf("text report: exit %d", r.code)
	}

	// Tampered: overwrite the tag sha256-<hex>.sbom with another artifact.
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.PushSBOMArtifact(context.Background(), d, []byte(`{"spdxVersion":"SPDX-2.3","name":"tampered"}`), "application/spdx+json", sign.SBOMOptions{}); err != nil {
		t.Fatal(err)
	}
	r := pubRun(t, verify...)
	if r.code != ExitDiffers || !strings.Contains(r.out, "DOES NOT match") || !strings.Contains(r.out, "points at") {
		t.Errorf("tampered artifact: exit %d, want %d naming the mismatch", r.code, ExitDiffers)
	}
}
