package acttest

import (
	"testing"

	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/recsig/recsigtest"
)

const (
	// actRunID is the run act reports (GITHUB_RUN_ID); callerRepository
	// the caller's OWNER/REPO, from its origin.
	actRunID         = "4242"
	callerRepository = "example/app"
	// builderRef is the job_workflow_ref GitHub gives nixdock-build.yml's
	// jobs when a caller uses nixdock.yml@v1.
	builderRef = "nixdock/nixdock-action/.github/workflows/nixdock-build.yml@refs/tags/v1"
)

// standInSigstore starts stand-ins, on loopback, for the two services
// keyless signing needs and that cannot exist offline: GitHub's OIDC token
// endpoint and Fulcio (a test CA). Every job gets a token for a job of
// nixdock-build.yml at the commit under test in this run of the caller:
// act cannot tell jobs apart, and only the builders ask (publish signs with
// a key in these tests). It returns the runner environment that points
// the jobs at them: the token variables GitHub sets for a job with
// id-token: write, and nixdock's Fulcio URL and roots.
func standInSigstore(t *testing.T, sha string) []string {
	t.Helper()
	sig := recsigtest.NewCA().Serve(t, recsigtest.Claims{JobWorkflowRef: builderRef, JobWorkflowSHA: sha,
		Repository: callerRepository, RunID: actRunID})
	env := []string{action.EnvFulcioURL + "=" + sig.FulcioURL, action.EnvFulcioRoots + "=" + sig.RootsFile}
	for k, v := range sig.Env {
		env = append(env, k+"="+v)
	}
	return env
}
