package action

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestInstallRelease runs action/install.sh, the action's installer,
// against a local HTTP server standing in for the GitHub release: a
// release ref gets its binary (checked, then cached), a tampered binary is
// refused with one error, and a ref without a release, or a runner without
// a binary, builds from source.
func TestInstallRelease(t *testing.T) {
	good := []byte("#!/bin/sh\necho nixdock v1.2.3\n")
	tampered := []byte("#!/bin/sh\necho pwned\n")
	sum := sha256.Sum256(good)
	var serve atomic.Value // []byte, or nil for a 500
	serve.Store(good)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/v1.2.3/nixdock-linux-amd64" {
			http.NotFound(w, r)
			return
		}
		b, _ := serve.Load().([]byte)
		if b == nil {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(b)
	}))
	defer srv.Close()

	release := t.TempDir()
	link(t, release)
	writeFile(t, filepath.Join(release, "release", "checksums.txt"), "# nixdock v1.2.3: sha256 of the release binaries\n"+
		hex.EncodeToString(sum[:])+"  nixdock-linux-amd64\n"+strings.Repeat("ab", 32)+"  nixdock-darwin-arm64\n")
	branch := t.TempDir()
	link(t, branch)

	toolCache := t.TempDir()
	run := func(actionPath, runnerOS string) (dest, stdout, stderr string, err error) {
		t.Helper()
		tmp := t.TempDir()
		dest = filepath.Join(tmp, "bin", "nixdock")
		cmd := exec.Command(filepath.Join(actionPath, "action", "install.sh"), dest)
		cmd.Env = append(os.Environ(), "GITHUB_ACTION_PATH="+actionPath, "RUNNER_OS="+runnerOS, "RUNNER_ARCH=X64",
			"RUNNER_TOOL_CACHE="+toolCache, "RUNNER_TEMP="+tmp, "NIXDOCK_RELEASE_URL="+srv.URL)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return dest, o.String(), e.String(), err
	}

	// A branch: no checksums file, so build from source; nothing fetched.
	dest, out, _, err := run(branch, "Linux")
	if err != nil || out != "build=true\n" || exists(dest) || requests.Load() != 0 {
		t.Errorf("branch: err %v, stdout %q, installed %v, %d requests", err, out, exists(dest), requests.Load())
	}

	// The tampered binary first: refused, nothing installed or cached.
	serve.Store(tampered)
	// The one error is an annotation on stderr: stdout is GITHUB_OUTPUT.
	dest, out, errOut, err := run(release, "Linux")
	if err == nil || out != "" || !strings.HasPrefix(errOut, "::error title=nixdock install::") ||
		!strings.Contains(errOut, "refusing to run it") || strings.Count(errOut, "\n") != 1 || exists(dest) {
		t.Errorf("tampered: err %v, stdout %q, stderr %q, installed %v", err, out, errOut, exists(dest))
	}
	if m, _ := filepath.Glob(filepath.Join(toolCache, "nixdock", "*", "*", "nixdock")); len(m) != 0 {
		t.Errorf("tampered binary cached: %q", m)
	}

	// The good binary: installed, and cached.
	serve.Store(good)
	dest, out, errOut, err = run(release, "Linux")
	if err != nil || out != "build=false\n" {
		t.Fatalf("good: err %v, stdout %q, stderr %q", err, out, errOut)
	}
	if b, _ := os.ReadFile(dest); string(b) != string(good) {
		t.Errorf("installed %q", b)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("installed binary not executable: %v", err)
	}

	// Cached: the server may be down.
	serve.Store([]byte(nil))
	before := requests.Load()
	if _, out, errOut, err = run(release, "Linux"); err != nil || out != "build=false\n" || requests.Load() != before {
		t.Errorf("cached: err %v, stdout %q, stderr %q, %d new requests", err, out, errOut, requests.Load()-before)
	}
	// A tampered cache entry is not used: it is fetched again, and the
	// server being down then fails the install.
	cached, _ := filepath.Glob(filepath.Join(toolCache, "nixdock", "1.2.3", "amd64", "nixdock"))
	if len(cached) != 1 {
		t.Fatalf("tool cache holds %q", cached)
	}
	if err := os.WriteFile(cached[0], tampered, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, errOut, err = run(release, "Linux"); err == nil || !strings.Contains(errOut, "::error title=nixdock install::downloading") {
		t.Errorf("tampered cache with the server down: err %v, stderr %q", err, errOut)
	}

	// No binary for this runner: build from source.
	if _, out, _, err = run(release, "Windows"); err != nil || out != "build=true\n" {
		t.Errorf("windows: err %v, stdout %q", err, out)
	}

	// A checksums file without its version line is an error.
	writeFile(t, filepath.Join(release, "release", "checksums.txt"), hex.EncodeToString(sum[:])+"  nixdock-linux-amd64\n")
	if _, _, errOut, err = run(release, "Linux"); err == nil || !strings.Contains(errOut, "does not start with") {
		t.Errorf("no version line: err %v, stderr %q", err, errOut)
	}
}

// link makes dir an action checkout with this repository's scripts.
func link(t *testing.T, dir string) {
	t.Helper()
	if err := os.Symlink(filepath.Join(repoRoot(), "action"), filepath.Join(dir, "action")); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
