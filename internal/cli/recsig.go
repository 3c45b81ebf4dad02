package cli

import (
	"context"
	"crypto/x509"
	"os"
	"regexp"

	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/pflag"
)

// recordSigFlags say whose signatures on build records count (verify,
// sign): each record's RECORD.sigstore.json is verified against them.
type recordSigFlags struct {
	identity, identityRegexp, issuer, trustRoot string
	signerDigest, sourceRepository, runPrefix   string
	requireSigned                               bool
}

func (f *recordSigFlags) bind(fl *pflag.FlagSet) {
	fl.StringVar(&f.identity, "record-identity", "", "the certificate identity (SAN) each record's signature must name (RECORD.sigstore.json)")
	fl.StringVar(&f.identityRegexp, "record-identity-regexp", "", "a regexp the record signer's identity must match")
	fl.StringVar(&f.issuer, "record-oidc-issuer", "", "the OIDC issuer the record signer's certificate must name")
	fl.StringVar(&f.trustRoot, "record-trust-root", "", "PEM file of the Fulcio certificates (roots and intermediates) record signatures chain to (default: Sigstore's public instance)")
	fl.StringVar(&f.signerDigest, "record-signer-digest", "", "the commit the record signer's certificate must name as its Build Signer Digest (GitHub's job_workflow_sha)")
	fl.StringVar(&f.sourceRepository, "record-source-repository", "", "the Source Repository URI the record signer's certificate must name, such as https://github.com/OWNER/REPO")
	fl.StringVar(&f.runPrefix, "record-run-uri-prefix", "", "a prefix of the run URI the record signer's certificate must name, such as https://github.com/OWNER/REPO/actions/runs/ID/")
	fl.BoolVar(&f.requireSigned, "record-require-signed", false, "count only records whose signature verifies")
}

// options are the verification options; nil when no record identity is
// expected (signatures are then not read).
func (f *recordSigFlags) options() (*recsig.Options, error) {
	if f.identity == "" && f.identityRegexp == "" && f.issuer == "" && f.trustRoot == "" &&
		f.signerDigest == "" && f.sourceRepository == "" && f.runPrefix == "" {
		if f.requireSigned {
			return nil, usageError("--record-require-signed needs --record-identity (or --record-identity-regexp) and --record-oidc-issuer")
		}
		return nil, nil
	}
	if (f.identity == "") == (f.identityRegexp == "") || f.issuer == "" {
		return nil, usageError("record signatures are verified against one of --record-identity or --record-identity-regexp, and --record-oidc-issuer")
	}
	var roots, inter *x509.CertPool
	var err error
	if f.trustRoot == "" {
		roots, inter, err = recsig.PublicGood()
		if err != nil {
			return nil, failure(err)
		}
	} else {
		data, err := os.ReadFile(f.trustRoot)
		if err != nil {
			return nil, usageError("--record-trust-root: %s", err)
		}
		if roots, inter, err = recsig.LoadTrust(data); err != nil {
			return nil, usageError("--record-trust-root %s: %s", f.trustRoot, err)
		}
	}
	o := &recsig.Options{Roots: roots, Intermediates: inter, Identity: f.identity, Issuer: f.issuer,
		SignerDigest: f.signerDigest, SourceRepository: f.sourceRepository, RunURIPrefix: f.runPrefix}
	if f.identityRegexp != "" {
		if o.IdentityRegexp, err = regexp.Compile(f.identityRegexp); err != nil {
			return nil, usageError("--record-identity-regexp: %s", err)
		}
	}
	return o, nil
}

// signRecord signs the record at path keyless and writes its signature
// next to it.
func signRecord(ctx context.Context, path string, opts sign.KeylessOptions) (string, error) {
	s, err := sign.KeylessSigner(ctx, opts)
	if err != nil {
		return "", err
	}
	return recsig.SignFile(path, s.SV, s.Cert)
}
