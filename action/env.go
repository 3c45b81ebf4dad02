package action

import (
	"regexp"
	"strings"
)

// githubIssuer is the OIDC issuer of GitHub Actions' tokens, githubServer
// the server Fulcio names GitHub's workflows and runs under: github.com
// only (GitHub Enterprise Server's tokens have another issuer, and the
// public Fulcio does not certify them).
const (
	githubIssuer = "https://token.actions.githubusercontent.com"
	githubServer = "https://github.com"
)

// The runner environment, besides the inputs, that says who signs: the
// publisher's workflow, the workflow whose signatures on build records
// count, and which Fulcio to use. Only the workflow file and the runner's
// owner set a job's environment: a caller's env does not reach a called
// workflow, and a builder's GITHUB_ENV stays in its own job.
const (
	// EnvSignerWorkflowRef names the variable through which a workflow tells
	// the publish step which workflow file signs keyless (GitHub's
	// job_workflow_ref, OWNER/REPO/.github/workflows/FILE@REF): the reusable
	// workflow sets it from job.workflow_ref, which differs from the caller's
	// GITHUB_WORKFLOW_REF.
	EnvSignerWorkflowRef = "NIXDOCK_SIGNER_WORKFLOW_REF"
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

// workflowRef is OWNER/REPO/.github/workflows/FILE@REF; commitSHA a commit.
var (
	workflowRef = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/\.github/workflows/[A-Za-z0-9_./-]+@[A-Za-z0-9_./-]+$`)
	commitSHA   = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// parseBuilderWorkflow splits an EnvBuilderWorkflow value into the
// workflow file (OWNER/REPO/.github/workflows/FILE) and its commit; ok is
// false for anything else.
func parseBuilderWorkflow(v string) (file, sha string, ok bool) {
	file, sha, _ = strings.Cut(v, "@")
	return file, sha, workflowRef.MatchString(v) && commitSHA.MatchString(sha)
}
