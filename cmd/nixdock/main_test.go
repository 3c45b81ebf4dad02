package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestChildCannotReadParentEnviron: a program nixdock runs (here a
// stand-in nix that reads /proc/$PPID/environ, as an impure evaluation
// could) cannot read nixdock's environment, where its secrets are: main
// hides it (childenv.HideOwn) before anything else. Both run as nobody:
// root reads any process's environment.
func TestChildCannotReadParentEnviron(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
			t.Fatal("needs root, to run nixdock as another user")
		}
		t.Skip("needs root, to run nixdock as another user")
	}
	dir, err := os.MkdirTemp("", "nixdock-environ-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nixdock")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fakeNix := "#!/bin/sh\n{ echo ran; tr '\\0' '\\n' < /proc/$PPID/environ; } > \"$NIXDOCK_TEST_RESULT\" 2>&1\nexit 1\n"
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "nix"), []byte(fakeNix), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "image.nix"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	result := filepath.Join(dir, "result")
	cmd := exec.Command(bin, "build", "-f", "image.nix")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Join(dir, "bin") + ":/usr/bin:/bin", "HOME=" + dir,
		"GITHUB_TOKEN=s3cret-token", "NIXDOCK_TEST_RESULT=" + result}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	got, err := os.ReadFile(result)
	if err != nil || !strings.HasPrefix(string(got), "ran\n") {
		t.Fatalf("the stand-in nix did not run (%v): nixdock said\n%s", err, out)
	}
	if strings.Contains(string(got), "s3cret-token") || !strings.Contains(string(got), "Permission denied") {
		t.Errorf("a program nixdock ran read its environment:\n%s", got)
	}
}
