package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
)

// signAndAttest signs ref and attaches the attestations: the SBOM (pushed
// as an artifact first when too large to inline), the reproducibility
// decision, and the provenance.
func signAndAttest(ctx context.Context, ref name.Digest, signer *sign.Signer, repro *sign.Reproducible, records []*record.Record, reg sign.Registry, at Attest) (*sign.Result, *sign.SBOMRef, error) {
	var atts []sign.Attestation
	var sbomRef *sign.SBOMRef
	if at.SBOM != nil {
		att, sr, err := sign.SBOMAttestation(ctx, ref, at.SBOM, sign.SBOMOptions{
			Registry: reg, InlineLimit: at.SBOMInlineLimit, FileName: at.SBOMName})
		if err != nil {
			return nil, nil, fmt.Errorf("SBOM %s: %w", at.SBOMName, err)
		}
		atts, sbomRef = append(atts, att), sr
	}
	p, err := sign.MarshalPredicate(repro)
	if err != nil {
		return nil, nil, err
	}
	atts = append(atts, sign.Attestation{PredicateType: sign.PredicateReproducible, Predicate: p})
	if at.Provenance != nil {
		prov, err := at.Provenance.predicate(records, signer)
		if err != nil {
			return nil, nil, err
		}
		p, err := sign.MarshalPredicate(prov)
		if err != nil {
			return nil, nil, err
		}
		atts = append(atts, sign.Attestation{PredicateType: sign.PredicateSLSA1, Predicate: p})
	}
	res, err := sign.Sign(ctx, ref, sign.Options{Registry: reg, Signer: signer, Attestations: atts})
	if err != nil {
		return nil, nil, err
	}
	return res, sbomRef, nil
}

// ErrProvenanceNeedsRecords: the provenance's installable and Nix versions
// come from the build records.
var ErrProvenanceNeedsRecords = errors.New("provenance needs the build records (the installable and Nix version come from them)")

func (p *Provenance) predicate(records []*record.Record, signer *sign.Signer) (*sign.Provenance, error) {
	if len(records) == 0 {
		return nil, ErrProvenanceNeedsRecords
	}
	in := sign.ProvenanceInput{Records: records, FlakeLock: p.FlakeLock, NixdockVersion: p.NixdockVersion}
	if p.Run != nil {
		in.BuilderID, in.InvocationID, in.Source = p.Run.ids(signer.JobWorkflowRef)
	}
	return sign.NewProvenance(in)
}

// ActionsRun is the GitHub Actions run that signs, from its environment
// (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_WORKFLOW_REF, GITHUB_RUN_ID,
// GITHUB_RUN_ATTEMPT, GITHUB_SHA, GITHUB_REF).
type ActionsRun struct {
	ServerURL, Repository, WorkflowRef string
	RunID, RunAttempt                  string
	SHA, Ref                           string
}

// ActionsRunFrom reads the run from an environment (os.Getenv); nil
// outside GitHub Actions.
func ActionsRunFrom(getenv func(string) string) *ActionsRun {
	r := &ActionsRun{
		ServerURL: getenv("GITHUB_SERVER_URL"), Repository: getenv("GITHUB_REPOSITORY"),
		WorkflowRef: getenv("GITHUB_WORKFLOW_REF"), RunID: getenv("GITHUB_RUN_ID"),
		RunAttempt: getenv("GITHUB_RUN_ATTEMPT"), SHA: getenv("GITHUB_SHA"), Ref: getenv("GITHUB_REF"),
	}
	if getenv("GITHUB_ACTIONS") != "true" || r.ServerURL == "" || r.Repository == "" {
		return nil
	}
	return r
}

// ids name what ran the build: the workflow that signs (the OIDC token's
// job_workflow_ref when keyless, which for a reusable workflow is the
// called one; else GITHUB_WORKFLOW_REF), the run, and the source
// repository at its commit.
func (r *ActionsRun) ids(jobWorkflowRef string) (builderID, invocationID string, source *sign.ResourceDescriptor) {
	if wf := jobWorkflowRef; wf != "" {
		builderID = r.ServerURL + "/" + wf
	} else if wf := r.WorkflowRef; wf != "" {
		builderID = r.ServerURL + "/" + wf
	}
	if r.RunID != "" {
		invocationID = r.ServerURL + "/" + r.Repository + "/actions/runs/" + r.RunID + "/attempts/" + r.RunAttempt
	}
	if r.SHA != "" {
		uri := "git+" + r.ServerURL + "/" + r.Repository
		if r.Ref != "" {
			uri += "@" + r.Ref
		}
		source = &sign.ResourceDescriptor{Name: "source", URI: uri, Digest: map[string]string{"gitCommit": r.SHA}}
	}
	return builderID, invocationID, source
}
