package nixtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// Options are the Nix options every test build uses.
var Options = []nix.Option{
	{Name: "substituters", Value: ""},
	{Name: "sandbox", Value: "true"},
	{Name: "sandbox-paths", Value: "/bin /usr /lib /lib64"},
}

// Require skips (or, under NIXDOCK_REQUIRE_NIX=1, fails) t when nix is missing.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("nix"); err == nil {
		return
	}
	if os.Getenv("NIXDOCK_REQUIRE_NIX") == "1" {
		t.Fatal("nix is not installed, and NIXDOCK_REQUIRE_NIX=1: run scripts/setup")
	}
	t.Skip("nix is not installed: run scripts/setup (the README's test command does)")
}

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// File is the path of testdata/nix/NAME.
func File(name string) string { return filepath.Join(Root(), "testdata", "nix", name) }

// Nix returns a runner for store ("" is the machine's store) with the test
// options, logging to the test log.
func Nix(t testing.TB, store string) nix.Runner {
	return nix.Runner{Store: store, Options: Options, Log: testWriter{t}}
}

// NewStore returns a fresh chroot store directory removed after the test.
// Nix makes its store read-only, so removal first makes it writable.
func NewStore(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nixdock-store-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { RemoveStore(dir) })
	return dir
}

// RemoveStore deletes a chroot store, read-only files and all.
func RemoveStore(dir string) {
	_ = exec.Command("chmod", "-R", "u+w", dir).Run()
	_ = os.RemoveAll(dir)
}

// Build builds FILE -A ATTR (from testdata/nix) in store and returns the
// result, whose image the test's cleanup closes.
func Build(t testing.TB, store, file, attr string) *build.Result {
	t.Helper()
	Require(t)
	res, err := build.Run(context.Background(), build.Options{
		Installable: record.Installable{File: File(file), Attr: attr},
		Nix:         Nix(t, store),
	})
	if err != nil {
		t.Fatalf("building %s -A %s: %v", file, attr, err)
	}
	t.Cleanup(func() { res.Image.Close() })
	return res
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// RequireTool returns the path of tool: on the PATH, else where
// scripts/setup installs the Go tools ($TOOLS_BIN, else $GOPATH/bin, else
// ~/go/bin). Without it the test is skipped, or fails under
// NIXDOCK_REQUIRE_TOOLS=1 (CI installs every tool).
func RequireTool(t testing.TB, tool string) string {
	t.Helper()
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	for _, dir := range toolDirs() {
		p := filepath.Join(dir, tool)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is not installed, and NIXDOCK_REQUIRE_TOOLS=1: run scripts/setup test", tool)
	}
	t.Skipf("%s is not installed: run scripts/setup test (the README's test command does)", tool)
	return ""
}

func toolDirs() []string {
	var dirs []string
	if d := os.Getenv("TOOLS_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(d)[0], "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

// Registry is the test registry scripts/registry.sh starts
// (NIXDOCK_TEST_REGISTRY). Without it the test is skipped, or fails under
// NIXDOCK_REQUIRE_TOOLS=1.
func Registry(t testing.TB) string {
	t.Helper()
	if r := os.Getenv("NIXDOCK_TEST_REGISTRY"); r != "" {
		return r
	}
	if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
		t.Fatal("NIXDOCK_TEST_REGISTRY is not set, and NIXDOCK_REQUIRE_TOOLS=1: source scripts/registry.sh and run start_registry")
	}
	t.Skip("NIXDOCK_TEST_REGISTRY is not set: . scripts/registry.sh; start_registry")
	return ""
}
