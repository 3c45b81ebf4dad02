package childenv

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nobodytest"
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
// anything, so both processes run as nobody.
func TestHideOwn(t *testing.T) {
	nobodytest.Require(t)
	self := nobodytest.Executable(t)
	nobody := nobodytest.Attr()
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
