package cli

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
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
