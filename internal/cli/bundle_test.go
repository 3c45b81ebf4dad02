package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/nixdock/nixdock-action/sign"
)

// cosignBothLayouts: what `nixdock sign` attached (signed twice, once per
// SBOM format) verifies with the stock cosign CLIs in both layouts. The
// registry (Debian's docker-registry) has no referrers API, so the
// bundles are listed by the referrers tag schema's index (sha256-<hex>).
// The tag is removed last, which leaves the v2 tags only.
func cosignBothLayouts(t *testing.T, ref, pub string) {
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	tag := sign.FallbackTag(d)
	idx, err := remote.Index(tag)
	if err != nil {
		t.Fatalf("no referrers index at %s: %v", tag, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, m := range im.Manifests {
		if m.ArtifactType != sign.BundleMediaType {
			t.Errorf("referrer %s: artifactType %q, want %s", m.Digest, m.ArtifactType, sign.BundleMediaType)
		}
		types = append(types, m.Annotations["dev.sigstore.bundle.predicateType"])
	}
	sort.Strings(types)
	want := []string{sign.PredicateCycloneDX, sign.PredicateReproducible, sign.PredicateSLSA1, sign.PredicateSPDX, sign.PredicateCosignSign}
	sort.Strings(want)
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("bundles' predicate types %v, want each of %v once (a second signing replaces)", types, want)
	}

	const v2Type = "cosign container image signature"
	// cosign v3 verifies the bundles only when it finds any: `verify`
	// then reports the bundle statement's type, not the v2 payload's.
	t.Run("cosign3", func(t *testing.T) { cosignVerify(t, "cosign3", ref, pub, sign.PredicateCosignSign) })
	t.Run("cosign3 v2 layout", func(t *testing.T) {
		cosignVerify(t, "cosign3", ref, pub, v2Type, "--new-bundle-format=false")
	})
	// cosign v2.6 also switches to the bundles when there are any, and then
	// wants a trusted root even for a key without the log (its
	// verify_attestation.go); offline, an empty one will do.
	root := offlineTrustedRoot(t)
	t.Run("cosign", func(t *testing.T) {
		cosignVerify(t, "cosign", ref, pub, sign.PredicateCosignSign, "--trusted-root", root)
	})

	// Without the referrers, as cosign releases that do not look for bundles
	// read: the v2 tags.
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(d.Repository.Digest(desc.Digest.String())); err != nil {
		t.Fatal(err)
	}
	t.Run("cosign v2 layout", func(t *testing.T) { cosignVerify(t, "cosign", ref, pub, v2Type) })
}

// offlineTrustedRoot is an empty Sigstore trusted root: what cosign v2.6
// needs, offline, to verify a key-signed image that has bundles with
// --insecure-ignore-tlog (it wants a trusted root for bundles, and fetches
// Sigstore's from TUF unless given one).
func offlineTrustedRoot(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifySignatureCosign3Bundles: an image that cosign v3 signed and
// attested (Sigstore bundles only, no v2 tags) verifies with nixdock
// verify-signature through its bundles, and not with another key.
func TestVerifySignatureCosign3Bundles(t *testing.T) {
	reg := nixtest.Registry(t)
	bin := nixtest.RequireTool(t, "cosign3")
	dir := t.TempDir()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := sign.Push(context.Background(), img, fmt.Sprintf("%s/nixdock-test/cosign3-%d:v1", reg, time.Now().UnixNano()), sign.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := pushed.Ref.String()
	t.Setenv(sign.PasswordEnv, testPassword)
	key := filepath.Join(dir, "cosign")
	if r := pubRun(t, "keygen", "--output-key-prefix", key); r.code != 0 {
		t.Fatalf("keygen: exit %d", r.code)
	}
	pred := filepath.Join(dir, "pred.json")
	if err := os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"x"},"runDetails":{"builder":{"id":"y"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sign", "--key", key + ".key", "--use-signing-config=false", "--tlog-upload=false", "-y", ref},
		{"attest", "--key", key + ".key", "--use-signing-config=false", "--tlog-upload=false", "--type", "slsaprovenance1", "--predicate", pred, "-y", ref},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "TUF_ROOT="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign3 %s: %v\n%s", args[0], err, out)
		}
	}
	v := pubRun(t, "verify-signature", ref, "--key", key+".pub", "--insecure-ignore-tlog", "--min-builders", "1", "--json")
	var got struct {
		Signatures     int      `json:"signatures"`
		Layout         string   `json:"layout"`
		PredicateTypes []string `json:"predicateTypes"`
	}
	if err := json.Unmarshal([]byte(v.out), &got); err != nil {
		t.Fatalf("verify-signature: exit %d: %v\n%s", v.code, err, v.errOut)
	}
	// No reproducibility attestation: the policy fails (exit 1), the
	// signatures verified.
	if v.code != 1 || got.Layout != sign.LayoutBundles || got.Signatures != 1 || strings.Join(got.PredicateTypes, " ") != sign.PredicateSLSA1 {
		t.Errorf("verify-signature: exit %d, %+v", v.code, got)
	}
	other := filepath.Join(dir, "other")
	pubRun(t, "keygen", "--output-key-prefix", other)
	if r := pubRun(t, "verify-signature", ref, "--key", other+".pub", "--insecure-ignore-tlog"); r.code != 3 || !strings.Contains(r.errOut, "no valid signature") {
		t.Errorf("another key: exit %d: %s", r.code, r.errOut)
	}
}
