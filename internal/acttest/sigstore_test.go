package acttest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	ca := recsigtest.NewCA()
	tok := recsigtest.Token(recsigtest.Claims{JobWorkflowRef: builderRef, JobWorkflowSHA: sha,
		Repository: callerRepository, RunID: actRunID})
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer act-request-token" {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"value":%q}`, tok)
	}))
	t.Cleanup(tokens.Close)
	fulcio := httptest.NewServer(ca.Fulcio())
	t.Cleanup(fulcio.Close)
	roots := filepath.Join(t.TempDir(), "fulcio.pem")
	if err := os.WriteFile(roots, ca.RootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + tokens.URL + "/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=act-request-token",
		action.EnvFulcioURL + "=" + fulcio.URL,
		action.EnvFulcioRoots + "=" + roots,
	}
}
