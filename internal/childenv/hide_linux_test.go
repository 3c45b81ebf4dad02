package childenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// hideHelper makes the test binary, run with it set, the process whose
// environment another process tries to read: "hide" hides it first.
const hideHelper = "CHILDENV_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(hideHelper); mode != "" {
		if mode == "hide" {
			if err := HideOwn(); err != nil {
				os.Stdout.WriteString("error " + err.Error() + "\n")
				os.Exit(1)
			}
		}
		os.Stdout.WriteString("ready\n")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test is done
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHideOwn: another process of the same (unprivileged) user reads a
// process's environment from /proc unless HideOwn hid it. Root reads
// anything, so both processes run as nobody; the test needs root to start
// them so.
func TestHideOwn(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
			t.Fatal("TestHideOwn needs root, to run its processes as another user")
		}
		t.Skip("needs root, to run its processes as another user")
	}
	// A copy of the test binary that nobody may run (go test's build
	// directory is root's alone).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "childenv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(self)
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err == nil {
		self = filepath.Join(dir, "childenv.test")
		err = os.WriteFile(self, data, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	for _, mode := range []string{"show", "hide"} {
		helper := exec.Command(self)
		helper.Env = []string{hideHelper + "=" + mode, "NIXDOCK_TEST_SECRET=s3cret"}
		helper.SysProcAttr = nobody
		stdin, _ := helper.StdinPipe()
		stdout, _ := helper.StdoutPipe()
		if err := helper.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "ready\n" {
			t.Fatalf("%s helper: %q", mode, line)
		}
		reader := exec.Command("cat", "/proc/"+strconv.Itoa(helper.Process.Pid)+"/environ")
		reader.SysProcAttr = nobody
		out, err := reader.CombinedOutput()
		stdin.Close()
		_ = helper.Wait()
		read := err == nil && strings.Contains(string(out), "NIXDOCK_TEST_SECRET=s3cret")
		if read != (mode == "show") {
			t.Errorf("%s: another process of the user read the environment: %v (%v: %q)", mode, read, err, out)
		}
	}
}
