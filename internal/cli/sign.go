package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/publish"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/cobra"
)

func init() { register(newSignCmd) }

type signFlags struct {
	reg             registryFlags
	key             string
	keyless         bool
	sbom            string
	sbomInlineLimit int64
	records         []string
	allowUnverified bool
	provenance      bool
	flakeLock       string
	minBuilders     int
	minHosts        int
	tlogUpload      bool
	rekorURL        string
	fulcioURL       string
	recordSig       recordSigFlags
}

func newSignCmd(a *app) *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "sign REF@DIGEST (--key cosign.key | --keyless) [--records R1 R2...]",
		Short: "Sign a pushed image and attach SBOM, reproducibility and provenance attestations",
		Long: `Sign REF@DIGEST as cosign does (a simple-signing payload under the tag
sha256-<hex>.sig) and attach signed in-toto attestations (DSSE, under
sha256-<hex>.att): the reproducibility attestation always, the SBOM with
--attest-sbom, SLSA provenance v1 with --provenance.

Signing is refused unless the build records (--records) prove DIGEST: at least
--min-builders builders that count (each built the image itself, not
downloaded it; no record a copy of another) evaluated the same .drv and
produced DIGEST, on at least --min-hosts distinct hosts when given;
--allow-unverified signs anyway and says so in the reproducibility attestation.
With --record-identity (or --record-identity-regexp) and --record-oidc-issuer,
each record's signature RECORD.sigstore.json (nixdock build --sign-record) is
verified when present, and the attestation names the builder's identity;
--record-require-signed counts only signed records.

--key takes a cosign private key, decrypted with COSIGN_PASSWORD (the only
place the password is read from). --keyless gets a Fulcio certificate with the
GitHub Actions OIDC token (permissions: id-token: write) and logs to Rekor.`,
		Example: `  nixdock sign 127.0.0.1:5000/hello@sha256:... --key cosign.key --records a.json b.json --attest-sbom sbom.spdx.json --provenance
  nixdock sign ghcr.io/me/hello@sha256:... --keyless --records a.json,b.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				if !cmd.Flags().Changed("records") {
					return usageError("sign takes one REF@DIGEST, got %d arguments", len(args))
				}
				// `--records a.json b.json`: the shell form the docs show.
				f.records = append(f.records, args[1:]...)
			}
			return a.runSign(cmd, args[0], f)
		},
	}
	f.reg.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "cosign private key file (password from COSIGN_PASSWORD)")
	fl.BoolVar(&f.keyless, "keyless", false, "sign with a Fulcio certificate from the GitHub Actions OIDC token")
	fl.StringVar(&f.sbom, "attest-sbom", "", "attest this SBOM (SPDX JSON or CycloneDX JSON, detected)")
	fl.Int64Var(&f.sbomInlineLimit, "sbom-inline-limit", sign.DefaultSBOMInlineLimit, "largest SBOM attested inline; larger ones are pushed as an OCI artifact and attested by digest (-1: always inline)")
	fl.StringSliceVar(&f.records, "records", nil, "build records proving the digest (repeat, comma-separate, or list after the flag)")
	fl.BoolVar(&f.allowUnverified, "allow-unverified", false, "sign even when the records do not prove the digest (the attestation says so)")
	fl.BoolVar(&f.provenance, "provenance", false, "attest SLSA provenance v1 (needs --records)")
	fl.StringVar(&f.flakeLock, "flake-lock", "", "flake.lock for the provenance's inputs (default: the flake's own, when the installable is a local flake)")
	fl.IntVar(&f.minBuilders, "min-builders", 2, "independent builders that must agree on the digest (at least 1)")
	fl.IntVar(&f.minHosts, "min-hosts", 0, "distinct hosts the agreeing builders must span (0: any)")
	fl.BoolVar(&f.tlogUpload, "tlog-upload", false, "with --key: also log to Rekor (keyless always does)")
	fl.StringVar(&f.rekorURL, "rekor-url", sign.DefaultRekorURL, "Rekor transparency log")
	fl.StringVar(&f.fulcioURL, "fulcio-url", sign.DefaultFulcioURL, "Fulcio certificate authority (--keyless)")
	f.recordSig.bind(fl)
	return cmd
}

func (a *app) runSign(cmd *cobra.Command, refStr string, f signFlags) error {
	if (f.key == "") == !f.keyless {
		return usageError("give --key FILE or --keyless (one of them)")
	}
	if f.minBuilders < 1 {
		return usageError("--min-builders %d: want at least 1 (the builders that must agree on the digest)", f.minBuilders)
	}
	reg, err := f.reg.registry(cmd)
	if err != nil {
		return err
	}
	ref, err := reg.ParseReference(refStr)
	if err != nil {
		return usageError("%s", err)
	}
	digest, ok := ref.(name.Digest)
	if !ok {
		return usageError("sign a digest, not a tag: give %s@sha256:... (nixdock push prints it)", refStr)
	}
	if f.minBuilders < 1 || f.minHosts < 0 {
		return usageError("--min-builders must be at least 1 and --min-hosts at least 0")
	}
	if f.provenance && len(f.records) == 0 {
		return usageError("--provenance needs --records (the installable and Nix version come from them)")
	}
	reg.AuthRegistry = digest.RegistryStr()
	sigOpts, err := f.recordSig.options()
	if err != nil {
		return err
	}
	records, ids, err := recsig.ReadRecords(f.records, sigOpts)
	if err != nil {
		return failure(err)
	}
	req := publish.SignRequest{
		Ref: digest, Records: records, Registry: reg,
		Policy: sign.RecordPolicy{MinBuilders: f.minBuilders, MinHosts: f.minHosts, AllowUnverified: f.allowUnverified,
			Identities: ids, RequireSigned: f.recordSig.requireSigned},
		OnStage: func(s publish.Stage) {
			if s.Name == publish.StageChecked && s.Reproducible.Verdict != sign.VerdictReproducible {
				a.ui.Infof("warning: signing an unverified digest (--allow-unverified): %s", strings.Join(s.Reproducible.Reasons, "; "))
			}
		},
	}
	if req.Signer, err = a.signerOf(cmd.Context(), f); err != nil {
		return err
	}
	if req.Attest, err = attestOf(records, f); err != nil {
		return err
	}
	res, err := publish.Sign(cmd.Context(), req)
	var unverified *sign.UnverifiedError
	if errors.As(err, &unverified) {
		return failure(fmt.Errorf("%w (pass --allow-unverified to sign anyway; the attestation will say so)", err))
	} else if err != nil {
		return failure(err)
	}
	if r := res.SBOMRef; r != nil {
		a.ui.Infof("SBOM %s is %d bytes, over --sbom-inline-limit %d: pushed as %s and attested by digest", f.sbom, r.Size, r.InlineLimit, r.Artifact)
	}
	sr := res.Sign
	a.ui.Infof("signed %s\n  signature     %s\n  attestations  %s (%s)\n  bundles       %d Sigstore bundles in referrers of the image (cosign v3)",
		sr.Ref, sr.SignatureTag, sr.AttestationTag, strings.Join(sr.PredicateTypes, ", "), len(sr.Bundles))
	if f.key != "" {
		pub := strings.TrimSuffix(f.key, filepath.Ext(f.key)) + ".pub"
		tlog := " --insecure-ignore-tlog"
		if sr.Tlog {
			tlog = ""
		}
		a.ui.Infof("verify with:\n  cosign verify --key %s%s %s\n  nixdock verify-signature --key %s%s --min-builders %d %s",
			pub, tlog, sr.Ref, pub, tlog, f.minBuilders, sr.Ref)
	}
	if err := a.printResult(sr.Ref.String()); err != nil {
		return err
	}
	return nil
}

// attestOf reads what the flags attest besides the reproducibility
// decision: the SBOM file and the provenance's flake.lock.
func attestOf(records []*record.Record, f signFlags) (publish.Attest, error) {
	at := publish.Attest{SBOMInlineLimit: f.sbomInlineLimit}
	if f.sbom != "" {
		data, err := os.ReadFile(f.sbom)
		if err != nil {
			return at, failure(fmt.Errorf("reading SBOM: %w", err))
		}
		at.SBOM, at.SBOMName = data, filepath.Base(f.sbom)
	}
	if f.provenance {
		prov, err := provenanceOf(records, f.flakeLock)
		if err != nil {
			return at, err
		}
		at.Provenance = prov
	}
	return at, nil
}

// provenanceOf is the provenance's input from the environment
// (publish.ProvenanceOf): the flake.lock and the GitHub Actions run.
func provenanceOf(records []*record.Record, flakeLock string) (*publish.Provenance, error) {
	p, err := publish.ProvenanceOf(records, flakeLock, version.Get().Version, os.Getenv)
	if err != nil {
		return nil, failure(err)
	}
	return p, nil
}

// signerOf is the signer the flags name: the key file (read after the
// record check) and COSIGN_PASSWORD (the only place the CLI reads a password from), or
// keyless.
func (a *app) signerOf(ctx context.Context, f signFlags) (publish.Signer, error) {
	if f.keyless {
		return publish.Signer{Keyless: &sign.KeylessOptions{FulcioURL: f.fulcioURL, RekorURL: f.rekorURL, Mask: a.ui.Mask}}, nil
	}
	pw, err := sign.Password()
	if err != nil {
		return publish.Signer{}, failure(err)
	}
	return publish.Signer{KeyFile: f.key, Password: pw, PasswordFrom: sign.PasswordEnv,
		TlogUpload: f.tlogUpload, RekorURL: f.rekorURL}, nil
}
