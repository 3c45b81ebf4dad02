package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/cobra"
)

func init() { register(newVerifySignatureCmd) }

// VerificationSchema identifies `nixdock verify-signature --json` output.
const VerificationSchema = "nixdock.dev/signature-verification/v1"

type verifySigFlags struct {
	reg         registryFlags
	key         string
	identity    string
	issuer      string
	minBuilders int
	minHosts    int
	// builderIdentity is a regexp the signers of the counted builders'
	// records must match.
	builderIdentity string
	ignoreTlog      bool
	json            bool
}

func newVerifySignatureCmd(a *app) *cobra.Command {
	var f verifySigFlags
	cmd := &cobra.Command{
		Use:   "verify-signature REF (--key cosign.pub | --certificate-identity ID --certificate-oidc-issuer URL)",
		Short: "Verify an image's signature, its attestations and the reproducibility policy",
		Long: `Verify REF's cosign signature and its attestations (with cosign's verifier),
then the policy: a verified reproducibility attestation says that at least
--min-builders independent builders agreed on this digest.

Exit codes: 0 verified and policy met, 1 verified but the policy is not met,
2 usage error, 3 failure (no valid signature, registry error, bad key).`,
		Example: `  nixdock verify-signature 127.0.0.1:5000/hello@sha256:... --key cosign.pub --insecure-ignore-tlog
  nixdock verify-signature ghcr.io/me/hello:v1 --certificate-identity https://github.com/me/hello/.github/workflows/release.yml@refs/tags/v1 --certificate-oidc-issuer https://token.actions.githubusercontent.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runVerifySignature(cmd, args[0], f)
		},
	}
	f.reg.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "cosign public key file")
	fl.StringVar(&f.identity, "certificate-identity", "", "keyless: the identity the certificate must name")
	fl.StringVar(&f.issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer the certificate must name")
	fl.IntVar(&f.minBuilders, "min-builders", 2, "independent builders that must have agreed on the digest (at least 1)")
	fl.IntVar(&f.minHosts, "min-hosts", 0, "distinct hosts the agreeing builders must have spanned (0: any)")
	fl.StringVar(&f.builderIdentity, "builder-identity-regexp", "", "count only builders whose records were signed by an identity this regexp matches (for the reusable workflow: its nixdock-build.yml)")
	fl.BoolVar(&f.ignoreTlog, "insecure-ignore-tlog", false, "do not check the transparency log (offline, or signed without Rekor)")
	fl.BoolVar(&f.json, "json", false, "print the verification as JSON ("+VerificationSchema+")")
	return cmd
}

func (a *app) runVerifySignature(cmd *cobra.Command, ref string, f verifySigFlags) error {
	keyless := f.identity != "" || f.issuer != ""
	switch {
	case f.key != "" && keyless:
		return usageError("give --key or --certificate-identity/--certificate-oidc-issuer, not both")
	case f.key == "" && !keyless:
		return usageError("give --key cosign.pub, or --certificate-identity and --certificate-oidc-issuer")
	case keyless && (f.identity == "" || f.issuer == ""):
		return usageError("keyless verification needs both --certificate-identity and --certificate-oidc-issuer")
	case f.minBuilders < 1:
		return usageError("--min-builders %d: want at least 1 (the builders that must have agreed on the digest)", f.minBuilders)
	}
	reg, err := f.reg.registry(cmd)
	if err != nil {
		return err
	}
	if f.minBuilders < 1 || f.minHosts < 0 {
		return usageError("--min-builders must be at least 1 and --min-hosts at least 0")
	}
	opts := sign.VerifyOptions{Registry: reg, CertIdentity: f.identity, CertOIDCIssuer: f.issuer,
		IgnoreTlog: f.ignoreTlog, MinBuilders: f.minBuilders, MinHosts: f.minHosts}
	if f.builderIdentity != "" {
		if opts.BuilderIdentity, err = regexp.Compile(f.builderIdentity); err != nil {
			return usageError("--builder-identity-regexp: %s", err)
		}
	}
	if f.key != "" {
		if opts.Key, err = sign.LoadPublicKey(f.key); err != nil {
			return failure(err)
		}
	}
	v, err := sign.Verify(cmd.Context(), ref, opts)
	if errors.Is(err, sign.ErrRekorKeys) {
		return failure(fmt.Errorf("%w (--insecure-ignore-tlog skips the log)", err))
	} else if err != nil {
		return failure(err)
	}
	if f.json {
		data, err := json.MarshalIndent(struct {
			Schema    string `json:"schema"`
			PolicyMet bool   `json:"policyMet"`
			*sign.Verification
		}{VerificationSchema, v.PolicyMet(), v}, "", "  ")
		if err != nil {
			return failure(err)
		}
		fmt.Fprintln(a.ui.Out, string(data))
	} else {
		a.renderVerification(v, f.minBuilders)
	}
	if !v.PolicyMet() {
		return errDiffers
	}
	return nil
}

func (a *app) renderVerification(v *sign.Verification, minBuilders int) {
	w := a.ui
	w.Printf("verified %s\n  signatures    %d (%s)\n  attestations  %s\n", v.Ref, v.Signatures, v.Layout, strings.Join(v.PredicateTypes, ", "))
	if r := v.Reproducible; r != nil {
		w.Printf("  reproducible  %s: %d builder(s) agreed on %d host(s) (policy: %d)\n", r.Verdict, r.AgreedBuilders, r.AgreedHosts, minBuilders)
		if r.DrvPath != "" {
			w.Printf("  drv           %s\n", r.DrvPath)
		}
		for _, b := range r.Builders {
			mark := "counts"
			if !b.Counts {
				mark = "does not count"
			}
			line := fmt.Sprintf("  builder       %s (%s, Nix %s): %s: %s", b.ID, b.System, b.NixVersion, mark, b.Why)
			if b.Isolation != "" {
				line += "; " + b.Isolation
			}
			w.Printf("%s; %s\n", line, b.Identity)
		}
	}
	if s := v.SBOMRef; s != nil {
		w.Printf("  sbom          %s (%s, %d bytes) in %s\n", s.Digest, s.SBOMPredicateType, s.Size, s.Artifact)
	}
	if c := v.SBOMArtifact; c != nil {
		state := "matches the attestation"
		if !c.Verified {
			state = "DOES NOT match the attestation"
		}
		w.Printf("  sbom artifact %s: fetched %s (%d bytes), tag %s -> %s\n", state, orNone(c.Digest), c.Size, c.Tag, orNone(c.TagDigest))
	}
	if v.PolicyMet() {
		w.Printf("policy met\n")
		return
	}
	w.Printf("policy not met:\n")
	for _, p := range v.Problems {
		w.Printf("  - %s\n", p)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
