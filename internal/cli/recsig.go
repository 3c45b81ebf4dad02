package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"regexp"

	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/pflag"
)

// recordSigFlags say whose signatures on build records count (verify,
// sign): each record's RECORD.sigstore.json is verified against them.
type recordSigFlags struct {
	identity, identityRegexp, issuer, trustRoot string
	requireSigned                               bool
}

func (f *recordSigFlags) bind(fl *pflag.FlagSet) {
	fl.StringVar(&f.identity, "record-identity", "", "the certificate identity (SAN) each record's signature must name (RECORD.sigstore.json)")
	fl.StringVar(&f.identityRegexp, "record-identity-regexp", "", "a regexp the record signer's identity must match")
	fl.StringVar(&f.issuer, "record-oidc-issuer", "", "the OIDC issuer the record signer's certificate must name")
	fl.StringVar(&f.trustRoot, "record-trust-root", "", "PEM file of the Fulcio certificates (roots and intermediates) record signatures chain to (default: Sigstore's public instance)")
	fl.BoolVar(&f.requireSigned, "record-require-signed", false, "count only records whose signature verifies")
}

// options are the verification options; nil when no record identity is
// expected (signatures are then not read).
func (f *recordSigFlags) options() (*recsig.Options, error) {
	if f.identity == "" && f.identityRegexp == "" && f.issuer == "" && f.trustRoot == "" {
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
	o := &recsig.Options{Roots: roots, Intermediates: inter, Identity: f.identity, Issuer: f.issuer}
	if f.identityRegexp != "" {
		if o.IdentityRegexp, err = regexp.Compile(f.identityRegexp); err != nil {
			return nil, usageError("--record-identity-regexp: %s", err)
		}
	}
	return o, nil
}

// readSignedRecords reads the records and, when opts is set, verifies the
// signature next to each (recsig.Path) over the record's exact bytes: the
// verified identities, "" for a record without a signature. A signature
// that does not verify is an error, not an unsigned record.
func readSignedRecords(paths []string, opts *recsig.Options) ([]*record.Record, []string, error) {
	recs := make([]*record.Record, len(paths))
	var ids []string
	if opts != nil {
		ids = make([]string, len(paths))
	}
	for i, p := range paths {
		// Stat first: reading a FIFO with no writer would block forever.
		if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("record %s: not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("reading record: %w", err)
		}
		if recs[i], err = record.Parse(data); err != nil {
			return nil, nil, fmt.Errorf("record %s: %w", p, err)
		}
		if opts == nil {
			continue
		}
		id, _, err := recsig.VerifyFile(p, data, *opts)
		if err != nil {
			return nil, nil, err
		}
		if id.Subject != "" {
			ids[i] = id.String()
		}
	}
	return recs, ids, nil
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
