package nobodytest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Require skips t unless it runs as root (or fails it under
// NIXDOCK_REQUIRE_TOOLS=1, as CI runs).
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
		t.Fatal("needs root, to run processes as nobody, and NIXDOCK_REQUIRE_TOOLS=1")
	}
	t.Skip("needs root, to run processes as nobody")
}

// Attr runs a process as nobody.
func Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// Dir is a temporary directory nobody may read, write and enter (t.TempDir
// and go test's build directory are root's alone).
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nobodytest-")
	if err == nil {
		err = os.Chmod(dir, 0o777)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Executable is a copy of the running test binary that nobody may run, in
// Dir.
func Executable(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(Dir(t), filepath.Base(self))
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
