package sign

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// The layouts Verify reads (Verification.Layout).
const (
	LayoutTags    = "cosign-v2-tags"
	LayoutBundles = "sigstore-bundles"
)

// emptyTrustedRoot is a Sigstore trusted root with nothing in it: cosign's
// bundle verifier wants trusted material even when a key and no log are
// all there is to check.
const emptyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`

// errNoBundles: the image has no Sigstore bundle referrers.
var errNoBundles = errors.New("no Sigstore bundles")

// verifyBundles verifies the image's Sigstore bundles (cosign v3's layout)
// with cosign's bundle verifier (sigstore-go: the key or certificate
// identity of co, the log unless ignored, the image digest as the
// statement's subject). It returns how many signature bundles
// (PredicateCosignSign) verified and the verified attestations. Verify
// uses it for an image without the v2 tags, one cosign v3 signed.
func verifyBundles(ctx context.Context, digest name.Digest, co *cosign.CheckOpts) (int, []oci.Signature, error) {
	bundles, _, err := cosign.GetBundles(ctx, digest, co)
	if err != nil || len(bundles) == 0 {
		return 0, nil, errNoBundles
	}
	bco := *co
	bco.NewBundleFormat = true
	bco.ClaimVerifier = nil // the verifier checks the subject digest
	if bco.TrustedMaterial == nil {
		if bco.IgnoreTlog {
			bco.TrustedMaterial, err = root.NewTrustedRootFromJSON([]byte(emptyTrustedRoot))
		} else {
			// Rekor's keys for the bundles' log entries.
			bco.TrustedMaterial, err = cosign.TrustedRoot()
		}
		if err != nil {
			return 0, nil, fmt.Errorf("%w: %w", ErrRekorKeys, err)
		}
	}
	verified, _, err := cosign.VerifyImageAttestations(ctx, digest, &bco)
	if err != nil {
		return 0, nil, err
	}
	sigs := 0
	var atts []oci.Signature
	for _, a := range verified {
		p, err := a.Payload()
		if err != nil {
			return 0, nil, fmt.Errorf("reading bundle: %w", err)
		}
		st, err := statementOf(p)
		if err != nil {
			return 0, nil, err
		}
		if st.PredicateType == PredicateCosignSign {
			sigs++
		} else {
			atts = append(atts, a)
		}
	}
	if sigs == 0 {
		return 0, nil, errors.New("no signature bundle (" + PredicateCosignSign + ") verifies")
	}
	return sigs, atts, nil
}
