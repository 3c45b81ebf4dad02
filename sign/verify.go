package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/signature"
)

// VerifyOptions tune Verify. Give Key, or CertIdentity and CertOIDCIssuer.
type VerifyOptions struct {
	Registry Registry
	Key      signature.Verifier
	// CertIdentity and CertOIDCIssuer are what a keyless certificate must
	// say (for Actions: the workflow URL and
	// https://token.actions.githubusercontent.com).
	CertIdentity, CertOIDCIssuer string
	// IgnoreTlog skips the transparency log check (offline, or signed
	// without Rekor).
	IgnoreTlog bool
	// MinBuilders is the policy: how many independent builders must have
	// agreed on the digest in a verified reproducibility attestation.
	MinBuilders int
	// MinHosts is how many distinct hosts those builders must have spanned
	// (0: any).
	MinHosts int
	// BuilderIdentity, when set, counts only the builders whose records
	// were signed by an identity it matches (the attestation's builders'
	// signer; anchor it): for the reusable workflow, its
	// nixdock-build.yml. It checks the publisher's signed word on who
	// signed the records.
	BuilderIdentity *regexp.Regexp
}

// ErrRekorKeys is a failure to get the transparency log's public keys
// (offline, or a private Rekor): the caller may choose to skip the log.
var ErrRekorKeys = errors.New("getting Rekor's public keys")

// Verification is what Verify found. The policy is met when Problems is
// empty.
type Verification struct {
	Ref string `json:"ref"`
	// Signatures counts verified simple-signing signatures (or signature
	// bundles, for LayoutBundles).
	Signatures int `json:"signatures"`
	// Layout is where the signatures were read: LayoutTags (cosign v2's
	// sha256-<hex>.sig/.att tags, read first) or LayoutBundles (Sigstore
	// bundles in referrers, for an image that has no v2 signature).
	Layout string `json:"layout"`
	// PredicateTypes of the verified attestations, sorted, repeated when
	// attested more than once.
	PredicateTypes []string      `json:"predicateTypes"`
	Reproducible   *Reproducible `json:"reproducible,omitempty"`
	SBOMRef        *SBOMRef      `json:"sbomRef,omitempty"`
	// SBOMArtifact is the check of the artifact SBOMRef names.
	SBOMArtifact *SBOMArtifactCheck `json:"sbomArtifact,omitempty"`
	Provenance   *Provenance        `json:"provenance,omitempty"`
	Problems     []string           `json:"problems"`
	statements   []*Statement
}

// PolicyMet says whether the policy holds.
func (v *Verification) PolicyMet() bool { return len(v.Problems) == 0 }

// ErrNoSignature means the image has no signature that verifies.
var ErrNoSignature = errors.New("no valid signature")

// Verify checks the signatures and attestations of ref with cosign's
// verifier, then the policy. A signature that does not verify is an error;
// a policy that is not met is reported in Problems.
func Verify(ctx context.Context, refStr string, opts VerifyOptions) (*Verification, error) {
	if opts.MinBuilders < 1 {
		return nil, fmt.Errorf("a policy of %d builders: want at least 1", opts.MinBuilders)
	}
	ref, err := opts.Registry.ParseReference(refStr)
	if err != nil {
		return nil, err
	}
	oopts := []ociremote.Option{ociremote.WithRemoteOptions(opts.Registry.RemoteOptions(ctx)...)}
	digest, err := ociremote.ResolveDigest(ref, oopts...)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", refStr, err)
	}
	co, err := checkOpts(ctx, opts, oopts)
	if err != nil {
		return nil, err
	}
	v := &Verification{Ref: digest.String(), Problems: []string{}, PredicateTypes: []string{}}
	co.ClaimVerifier = cosign.SimpleClaimVerifier
	sigs, _, err := cosign.VerifyImageSignatures(ctx, digest, co)
	var atts []oci.Signature
	if err != nil {
		// No v2 signature: an image cosign v3 signed has bundles only.
		n, batts, berr := verifyBundles(ctx, digest, co)
		switch {
		case errors.Is(berr, errNoBundles):
			return nil, fmt.Errorf("%w for %s: %v", ErrNoSignature, digest, err)
		case berr != nil:
			return nil, fmt.Errorf("%w for %s: %v; its Sigstore bundles: %v", ErrNoSignature, digest, err, berr)
		}
		v.Signatures, v.Layout, atts = n, LayoutBundles, batts
	} else {
		v.Signatures, v.Layout = len(sigs), LayoutTags
		co.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
		atts, _, err = cosign.VerifyImageAttestations(ctx, digest, co)
		var noMatch *cosign.ErrNoMatchingAttestations
		switch {
		case errors.As(err, &noMatch):
			v.Problems = append(v.Problems, "no attestation verifies: "+err.Error())
		case err != nil:
			return nil, fmt.Errorf("verifying attestations of %s: %w", digest, err)
		}
	}
	if err := v.read(atts); err != nil {
		return nil, err
	}
	v.policy(digest, opts)
	if v.SBOMRef != nil {
		check, problems, err := checkSBOMArtifact(ctx, digest, v.SBOMRef, opts.Registry)
		if err != nil {
			return nil, err
		}
		v.SBOMArtifact = check
		v.Problems = append(v.Problems, problems...)
	}
	return v, nil
}

func checkOpts(ctx context.Context, opts VerifyOptions, oopts []ociremote.Option) (*cosign.CheckOpts, error) {
	co := &cosign.CheckOpts{RegistryClientOpts: oopts, IgnoreTlog: opts.IgnoreTlog}
	switch {
	case opts.Key != nil:
		co.SigVerifier = opts.Key
		if !opts.IgnoreTlog {
			pubs, err := cosign.GetRekorPubs(ctx)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrRekorKeys, err)
			}
			co.RekorPubKeys = pubs
		}
	case opts.CertIdentity != "" && opts.CertOIDCIssuer != "":
		co.Identities = []cosign.Identity{{Subject: opts.CertIdentity, Issuer: opts.CertOIDCIssuer}}
		tm, err := cosign.TrustedRoot()
		if err != nil {
			return nil, fmt.Errorf("getting Sigstore's trusted root (TUF) for keyless verification: %w", err)
		}
		co.TrustedMaterial = tm
	default:
		return nil, errors.New("give a public key, or a certificate identity and OIDC issuer")
	}
	return co, nil
}

// read decodes the verified attestations.
func (v *Verification) read(atts []oci.Signature) error {
	for _, a := range atts {
		p, err := a.Payload()
		if err != nil {
			return fmt.Errorf("reading attestation: %w", err)
		}
		st, err := statementOf(p)
		if err != nil {
			return err
		}
		v.statements = append(v.statements, st)
		v.PredicateTypes = append(v.PredicateTypes, st.PredicateType)
		var target any
		switch st.PredicateType {
		case PredicateReproducible:
			v.Reproducible = &Reproducible{}
			target = v.Reproducible
		case PredicateSBOMRef:
			v.SBOMRef = &SBOMRef{}
			target = v.SBOMRef
		case PredicateSLSA1:
			v.Provenance = &Provenance{}
			target = v.Provenance
		default:
			continue
		}
		if err := json.Unmarshal(st.Predicate, target); err != nil {
			return fmt.Errorf("attestation %s: %w", st.PredicateType, err)
		}
	}
	sort.Strings(v.PredicateTypes)
	return nil
}

// policy: a verified reproducibility attestation says that at least
// minBuilders independent builders agreed on this very digest.
func (v *Verification) policy(digest name.Digest, opts VerifyOptions) {
	minBuilders, minHosts := opts.MinBuilders, opts.MinHosts
	r := v.Reproducible
	switch {
	case r == nil:
		v.Problems = append(v.Problems, "no reproducibility attestation ("+PredicateReproducible+")")
		return
	case r.Verdict != VerdictReproducible:
		v.Problems = append(v.Problems, fmt.Sprintf("the reproducibility attestation's verdict is %q (signed although the records did not prove it)", r.Verdict))
	}
	// The count is taken from the signed list of builders, each with its
	// own verdict, not only from the signed total.
	counted, hosts := 0, map[string]bool{}
	for _, b := range r.Builders {
		if b.Counts && (opts.BuilderIdentity == nil || b.Signer != "" && opts.BuilderIdentity.MatchString(b.Signer)) {
			counted++
			hosts[b.Host] = true
		}
	}
	if n := min(counted, r.AgreedBuilders); n < minBuilders {
		if opts.BuilderIdentity != nil {
			v.Problems = append(v.Problems, fmt.Sprintf("%d independent builder(s) agreed with records signed by an identity matching %q, the policy requires %d",
				n, opts.BuilderIdentity, minBuilders))
		} else {
			v.Problems = append(v.Problems, fmt.Sprintf("%d independent builder(s) agreed, the policy requires %d", n, minBuilders))
		}
	}
	// Hosts too are taken from the builders that passed, not only the
	// signed total.
	if n := min(len(hosts), r.AgreedHosts); n < minHosts {
		v.Problems = append(v.Problems, fmt.Sprintf("the agreeing builders ran on %d host(s), the policy requires %d", n, minHosts))
	}
	if r.Digests.Manifest != digest.DigestStr() {
		v.Problems = append(v.Problems, fmt.Sprintf("the reproducibility attestation is about %s, not %s", r.Digests.Manifest, digest.DigestStr()))
	}
}
