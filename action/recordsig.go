package action

import (
	"context"
	"fmt"
	"os"

	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
)

// githubIssuer is the OIDC issuer of GitHub Actions' tokens.
const githubIssuer = "https://token.actions.githubusercontent.com"

// signsRecords reports whether the build mode signs its record: keyless,
// with an OIDC token to be had (the job has id-token: write). Without
// one (a pull request from a fork) the record stays unsigned, and
// verify reports the builder as self-reported.
func (x *run) signsRecords() bool {
	return x.in.Keyless && x.r.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != "" && x.r.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") != ""
}

// signRecord signs the record at path with the job's own OIDC identity
// (a Fulcio certificate) into recsig.Path(path), uploaded with it.
func (x *run) signRecord(ctx context.Context, path string) (string, error) {
	fulcio := x.req.FulcioURL
	if fulcio == "" {
		fulcio = sign.DefaultFulcioURL
	}
	s, err := sign.KeylessSigner(ctx, sign.KeylessOptions{FulcioURL: fulcio, RekorURL: sign.DefaultRekorURL,
		Getenv: x.r.Getenv, Mask: x.r.Mask})
	if err != nil {
		return "", fmt.Errorf("signing the build record: %w", err)
	}
	return recsig.SignFile(path, s.SV, s.Cert)
}

// recordSigOptions are what a build record's signature must prove in the
// verify and publish modes: signed by the workflow that runs them
// (EnvSignerWorkflowRef, which the reusable workflow sets from
// job.workflow_ref: its build jobs sign with the same identity), through
// GitHub's OIDC issuer, chained to Sigstore's public Fulcio. nil when the
// signing workflow is not known: signatures are then not read.
func (x *run) recordSigOptions() (*recsig.Options, error) {
	ref := x.r.Getenv(EnvSignerWorkflowRef)
	if ref == "" {
		return nil, nil
	}
	if !workflowRef.MatchString(ref) {
		return nil, usage(fmt.Errorf("%s %q is not OWNER/REPO/.github/workflows/FILE@REF", EnvSignerWorkflowRef, ref))
	}
	var err error
	o := &recsig.Options{Identity: "https://github.com/" + ref, Issuer: githubIssuer}
	if x.req.RecordTrust != nil {
		o.Roots, o.Intermediates, err = recsig.LoadTrust(x.req.RecordTrust)
	} else {
		o.Roots, o.Intermediates, err = recsig.PublicGood()
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// readSignedRecord reads the record at path once and, when opts is set,
// verifies its signature: the verified identity, "" when unsigned. A
// signature that does not verify is an error.
func readSignedRecord(path string, opts *recsig.Options) (*record.Record, string, error) {
	if opts == nil {
		rec, err := record.Read(path)
		return rec, "", err
	}
	// Stat first: reading a FIFO with no writer would block forever.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("record %s: not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading record: %w", err)
	}
	rec, err := record.Parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("record %s: %w", path, err)
	}
	id, signed, err := recsig.VerifyFile(path, data, *opts)
	if err != nil || !signed {
		return rec, "", err
	}
	return rec, id.String(), nil
}
