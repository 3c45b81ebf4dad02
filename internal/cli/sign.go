package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/internal/version"
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
	records, err := readRecords(f.records)
	if err != nil {
		return failure(err)
	}
	// Refuse before touching the key or the registry.
	repro, err := sign.CheckRecords(records, digest.DigestStr(),
		sign.RecordPolicy{MinBuilders: f.minBuilders, MinHosts: f.minHosts, AllowUnverified: f.allowUnverified})
	if err != nil {
		return failure(fmt.Errorf("%w (pass --allow-unverified to sign anyway; the attestation will say so)", err))
	}
	if repro.Verdict != sign.VerdictReproducible {
		a.ui.Infof("warning: signing an unverified digest (--allow-unverified): %s", strings.Join(repro.Reasons, "; "))
	}
	// The signer first: a wrong password or no Fulcio certificate must fail
	// before anything (the SBOM artifact) is pushed.
	signer, err := a.signer(cmd, f)
	if err != nil {
		return err
	}
	atts, err := a.attestations(cmd, digest, reg, repro, records, signer, f)
	if err != nil {
		return err
	}
	res, err := sign.Sign(cmd.Context(), digest, sign.Options{Registry: reg, Signer: signer, Attestations: atts})
	if err != nil {
		return failure(err)
	}
	a.ui.Infof("signed %s\n  signature     %s\n  attestations  %s (%s)", res.Ref, res.SignatureTag, res.AttestationTag, strings.Join(res.PredicateTypes, ", "))
	if f.key != "" {
		pub := strings.TrimSuffix(f.key, filepath.Ext(f.key)) + ".pub"
		tlog := " --insecure-ignore-tlog"
		if res.Tlog {
			tlog = ""
		}
		a.ui.Infof("verify with:\n  cosign verify --key %s%s %s\n  nixdock verify-signature --key %s%s --min-builders %d %s",
			pub, tlog, res.Ref, pub, tlog, f.minBuilders, res.Ref)
	}
	fmt.Fprintln(a.ui.Out, res.Ref.String())
	return nil
}

func readRecords(paths []string) ([]*build.Record, error) {
	var out []*build.Record
	for _, p := range paths {
		r, err := build.ReadRecord(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// attestations builds the predicates: SBOM (maybe pushed as an artifact),
// reproducibility, provenance.
func (a *app) attestations(cmd *cobra.Command, ref name.Digest, reg sign.Registry, repro *sign.Reproducible, records []*build.Record, signer *sign.Signer, f signFlags) ([]sign.Attestation, error) {
	var atts []sign.Attestation
	if f.sbom != "" {
		data, err := os.ReadFile(f.sbom)
		if err != nil {
			return nil, failure(fmt.Errorf("reading SBOM: %w", err))
		}
		att, ref, err := sign.SBOMAttestation(cmd.Context(), ref, data, sign.SBOMOptions{
			Registry: reg, InlineLimit: f.sbomInlineLimit, FileName: filepath.Base(f.sbom)})
		if err != nil {
			return nil, failure(fmt.Errorf("SBOM %s: %w", f.sbom, err))
		}
		if ref != nil {
			a.ui.Infof("SBOM %s is %d bytes, over --sbom-inline-limit %d: pushed as %s and attested by digest", f.sbom, ref.Size, ref.InlineLimit, ref.Artifact)
		}
		atts = append(atts, att)
	}
	p, err := jsonPredicate(repro)
	if err != nil {
		return nil, failure(err)
	}
	atts = append(atts, sign.Attestation{PredicateType: sign.PredicateReproducible, Predicate: p})
	if f.provenance {
		prov, err := provenance(records, signer, f)
		if err != nil {
			return nil, err
		}
		p, err := jsonPredicate(prov)
		if err != nil {
			return nil, failure(err)
		}
		atts = append(atts, sign.Attestation{PredicateType: sign.PredicateSLSA1, Predicate: p})
	}
	return atts, nil
}

func provenance(records []*build.Record, signer *sign.Signer, f signFlags) (*sign.Provenance, error) {
	if len(records) == 0 {
		return nil, usageError("--provenance needs --records (the installable and Nix version come from them)")
	}
	in := sign.ProvenanceInput{Records: records, NixdockVersion: version.Get().Version}
	var err error
	lockPath := f.flakeLock
	if lockPath == "" {
		lockPath = flakeLockOf(records[0].Installable)
	}
	if lockPath != "" {
		if in.FlakeLock, err = os.ReadFile(lockPath); err != nil && f.flakeLock != "" {
			return nil, failure(fmt.Errorf("reading flake.lock: %w", err))
		}
	}
	in.BuilderID, in.InvocationID, in.Source = actionsRun(signer)
	prov, err := sign.NewProvenance(in)
	if err != nil {
		return nil, failure(err)
	}
	return prov, nil
}

// actionsRun names, in GitHub Actions, what ran the build: the workflow
// that signs (the OIDC token's job_workflow_ref when keyless, which for a
// reusable workflow is the called one; else GITHUB_WORKFLOW_REF), the run,
// and the source repository at its commit. Outside Actions all are empty
// and the provenance names sign.LocalBuilderID.
func actionsRun(signer *sign.Signer) (builderID, invocationID string, source *sign.ResourceDescriptor) {
	server, repo := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY")
	if os.Getenv("GITHUB_ACTIONS") != "true" || server == "" || repo == "" {
		return "", "", nil
	}
	if wf := signer.JobWorkflowRef; wf != "" {
		builderID = server + "/" + wf
	} else if wf := os.Getenv("GITHUB_WORKFLOW_REF"); wf != "" {
		builderID = server + "/" + wf
	}
	if run := os.Getenv("GITHUB_RUN_ID"); run != "" {
		invocationID = server + "/" + repo + "/actions/runs/" + run + "/attempts/" + os.Getenv("GITHUB_RUN_ATTEMPT")
	}
	if sha := os.Getenv("GITHUB_SHA"); sha != "" {
		uri := "git+" + server + "/" + repo
		if ref := os.Getenv("GITHUB_REF"); ref != "" {
			uri += "@" + ref
		}
		source = &sign.ResourceDescriptor{Name: "source", URI: uri, Digest: map[string]string{"gitCommit": sha}}
	}
	return builderID, invocationID, source
}

// flakeLockOf is the flake.lock of a local flake installable (".#image",
// "path:./x#image", "./x#image"), or "".
func flakeLockOf(inst build.Installable) string {
	if inst.Flake == "" {
		return ""
	}
	dir, _, _ := strings.Cut(inst.Flake, "#")
	dir = strings.TrimPrefix(dir, "path:")
	dir = strings.TrimPrefix(dir, "git+file://")
	if dir == "" || strings.Contains(dir, ":") {
		return ""
	}
	return filepath.Join(dir, "flake.lock")
}

func (a *app) signer(cmd *cobra.Command, f signFlags) (*sign.Signer, error) {
	if f.keyless {
		s, err := sign.KeylessSigner(cmd.Context(), sign.KeylessOptions{FulcioURL: f.fulcioURL, RekorURL: f.rekorURL, Mask: a.ui.Mask})
		if err != nil {
			return nil, failure(err)
		}
		return s, nil
	}
	pw, err := sign.Password()
	if err != nil {
		return nil, failure(err)
	}
	sv, err := sign.LoadKey(f.key, pw)
	if err != nil {
		return nil, failure(err)
	}
	s := &sign.Signer{SV: sv}
	if f.tlogUpload {
		if s.Rekor, err = sign.RekorClient(f.rekorURL); err != nil {
			return nil, failure(err)
		}
	}
	return s, nil
}

func jsonPredicate(v any) ([]byte, error) {
	if v == nil {
		return nil, errors.New("empty predicate")
	}
	return sign.MarshalPredicate(v)
}
