package cli

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// authRegistry is an in-memory registry that answers only to user:pass
// (HTTP basic auth, as a registry behind `docker login` does), and keeps
// the passwords it was sent.
func authRegistry(t *testing.T, user, pass string) (string, *sync.Map) {
	t.Helper()
	var sent sync.Map
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if ok {
			sent.Store(p, true)
		}
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &sent
}

// withStdin runs f with os.Stdin reading s.
func withStdin(t *testing.T, s string, f func()) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	old := os.Stdin
	os.Stdin = fh
	defer func() { os.Stdin = old }()
	f()
}

// TestPushUsernameAuthenticatesSource: --username/--password-stdin is the
// one registry configuration of a push: it authenticates the pull of a
// registry IMAGE in the same registry as well as the push to REF.
func TestPushUsernameAuthenticatesSource(t *testing.T) {
	host, _ := authRegistry(t, "octo", "s3cret")
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	src, err := name.ParseReference(host + "/octo/src:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(src, img, remote.WithAuth(&authn.Basic{Username: "octo", Password: "s3cret"})); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	var stdout, stderr bytes.Buffer
	code := -1
	withStdin(t, "s3cret\n", func() {
		code = Main(context.Background(), []string{"push", src.String(), host + "/octo/dst:v1", "--username", "octo", "--password-stdin"}, &stdout, &stderr)
	})
	if code != 0 {
		t.Fatalf("push from an authenticated registry: exit %d: %s", code, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != host+"/octo/dst@"+want.String() {
		t.Errorf("pushed %q, want %s", got, host+"/octo/dst@"+want.String())
	}
	// Without credentials the same registry refuses the pull: the
	// credentials above were what made it work.
	stdout.Reset()
	stderr.Reset()
	if code := Main(context.Background(), []string{"push", src.String(), host + "/octo/other:v1"}, &stdout, &stderr); code != ExitFailure {
		t.Errorf("anonymous pull from an authenticated registry: exit %d, want %d", code, ExitFailure)
	}
}

// TestPushUsernameIsForDestination: the password given for REF's registry
// is not sent to the registry IMAGE comes from.
func TestPushUsernameIsForDestination(t *testing.T) {
	dst, _ := authRegistry(t, "octo", "s3cret")
	other, sent := authRegistry(t, "someone", "else")
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	src, err := name.ParseReference(other + "/x/src:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(src, img, remote.WithAuth(&authn.Basic{Username: "someone", Password: "else"})); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := -1
	withStdin(t, "s3cret\n", func() {
		code = Main(context.Background(), []string{"push", src.String(), dst + "/octo/dst:v1", "--username", "octo", "--password-stdin"}, &stdout, &stderr)
	})
	if code != ExitFailure {
		t.Errorf("a pull from another registry without its credentials: exit %d, want %d", code, ExitFailure)
	}
	if _, leaked := sent.Load("s3cret"); leaked {
		t.Error("the destination's password was sent to the source's registry")
	}
}
