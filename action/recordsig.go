package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/nixdock/nixdock-action/recsig"
	"github.com/nixdock/nixdock-action/sign"
)

// githubIssuer is the OIDC issuer of GitHub Actions' tokens, githubServer
// the server Fulcio names GitHub's workflows and runs under.
const (
	githubIssuer = "https://token.actions.githubusercontent.com"
	githubServer = "https://github.com"
)

// The runner environment that says whose signatures on build records
// count and which Fulcio to use. Only the workflow file and the runner's
// owner set a job's environment: a caller's env does not reach a called
// workflow, and a builder's GITHUB_ENV stays in its own job.
const (
	// EnvBuilderWorkflow is the workflow file whose jobs sign build
	// records, at a commit: OWNER/REPO/.github/workflows/FILE@SHA. The
	// reusable workflow names its builder workflow, nixdock-build.yml, at
	// its own commit (job.workflow_sha). A record counts as signed when
	// its certificate names that file (at whatever ref), that commit as
	// the Build Signer Digest, and this run of this repository.
	EnvBuilderWorkflow = "NIXDOCK_BUILDER_WORKFLOW"
	// EnvFulcioURL replaces Sigstore's public Fulcio for signing build
	// records (a private Sigstore, or the act test's stand-in).
	EnvFulcioURL = "NIXDOCK_FULCIO_URL"
	// EnvFulcioRoots is a PEM file of the Fulcio certificates record
	// signatures chain to, instead of the public instance's (cosign reads
	// the same variable).
	EnvFulcioRoots = "SIGSTORE_ROOT_FILE"
)

var commitSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

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
	fulcio := x.r.Getenv(EnvFulcioURL)
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
// verify and publish modes: signed by a job of the builder workflow
// (EnvBuilderWorkflow) at its commit, in this run of this repository,
// through GitHub's OIDC issuer, chained to Sigstore's public Fulcio (or
// EnvFulcioRoots). nil when the builder workflow is not known: signatures
// are then not read.
func (x *run) recordSigOptions() (*recsig.Options, error) {
	ref := x.r.Getenv(EnvBuilderWorkflow)
	if ref == "" {
		return nil, nil
	}
	file, sha, _ := strings.Cut(ref, "@")
	if !workflowRef.MatchString(ref) || !commitSHA.MatchString(sha) {
		return nil, usage(fmt.Errorf("%s %q is not OWNER/REPO/.github/workflows/FILE@COMMIT", EnvBuilderWorkflow, ref))
	}
	repo, runID := x.r.Getenv("GITHUB_REPOSITORY"), x.r.Getenv("GITHUB_RUN_ID")
	if repo == "" || runID == "" {
		return nil, usage(errors.New("the runner does not say which repository and run this is (GITHUB_REPOSITORY, GITHUB_RUN_ID): record signatures cannot be bound to the run"))
	}
	o := &recsig.Options{
		IdentityRegexp:   regexp.MustCompile("^" + regexp.QuoteMeta(githubServer+"/"+file+"@") + `\S+$`),
		Issuer:           githubIssuer,
		SignerDigest:     sha,
		SourceRepository: githubServer + "/" + repo,
		RunURIPrefix:     githubServer + "/" + repo + "/actions/runs/" + runID + "/",
	}
	var err error
	if roots := x.r.Getenv(EnvFulcioRoots); roots != "" {
		data, rerr := os.ReadFile(roots)
		if rerr != nil {
			return nil, usage(fmt.Errorf("%s: %w", EnvFulcioRoots, rerr))
		}
		o.Roots, o.Intermediates, err = recsig.LoadTrust(data)
		if err != nil {
			return nil, usage(fmt.Errorf("%s %s: %w", EnvFulcioRoots, roots, err))
		}
		return o, nil
	}
	if o.Roots, o.Intermediates, err = recsig.PublicGood(); err != nil {
		return nil, err
	}
	return o, nil
}
