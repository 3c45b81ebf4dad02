package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/nobodytest"
)

// TestMain lets the test binary act as nixdock (NIXDOCK_TEST_MAIN=1), so
// that the tests send real signals to a real process.
func TestMain(m *testing.M) {
	if os.Getenv("NIXDOCK_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSignalInterrupts: SIGINT or SIGTERM while a stream script runs stops
// nixdock with one line, "interrupted", and exit 128+signal.
func TestSignalInterrupts(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			mark := filepath.Join(dir, "started")
			script := filepath.Join(dir, "stream")
			body := "#!/bin/sh\ntouch '" + mark + "'\nexec sleep 60\n"
			if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "inspect", script)
			cmd.Env = append(os.Environ(), "NIXDOCK_TEST_MAIN=1", "TMPDIR="+dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			for i := 0; ; i++ {
				if _, err := os.Stat(mark); err == nil {
					break
				}
				if i > 300 {
					t.Fatal("the stream script did not start within 30 s")
				}
				time.Sleep(100 * time.Millisecond)
			}
			start := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("after %v: %v, want exit %d; stderr:\n%s", tc.sig, err, tc.code, stderr.String())
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v to stop", time.Since(start))
			}
			if got := strings.TrimSpace(stderr.String()); got != "nixdock: error: interrupted" {
				t.Errorf("stderr = %q, want the one line \"nixdock: error: interrupted\"", got)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "nixdock-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestChildCannotReadParentEnviron: a program nixdock runs (here a
// stand-in nix that reads /proc/$PPID/environ, as an impure evaluation
// could) cannot read nixdock's environment, where its secrets are: main
// hides it (childenv.HideOwn) before anything else. Both run as nobody:
// root reads any process's environment.
func TestChildCannotReadParentEnviron(t *testing.T) {
	nobodytest.Require(t)
	nixdock := nobodytest.Executable(t)
	dir := filepath.Dir(nixdock)
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
	cmd := exec.Command(nixdock, "build", "-f", "image.nix")
	cmd.Dir = dir
	cmd.Env = []string{"NIXDOCK_TEST_MAIN=1", "PATH=" + filepath.Join(dir, "bin") + ":/usr/bin:/bin", "HOME=" + dir,
		"GITHUB_TOKEN=s3cret-token", "NIXDOCK_TEST_RESULT=" + result}
	cmd.SysProcAttr = nobodytest.Attr()
	out, _ := cmd.CombinedOutput()
	got, err := os.ReadFile(result)
	if err != nil || !strings.HasPrefix(string(got), "ran\n") {
		t.Fatalf("the stand-in nix did not run (%v): nixdock said\n%s", err, out)
	}
	if strings.Contains(string(got), "s3cret-token") || !strings.Contains(string(got), "Permission denied") {
		t.Errorf("a program nixdock ran read its environment:\n%s", got)
	}
}
