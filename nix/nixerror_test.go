package nix

import (
	"errors"
	"strings"
	"testing"
)

// Nix 2.8's stderr for a failing `nix build -L`: progress, the builder's
// log as "name> " lines, then the error without the log.
const stderrPrintLogs = `warning: unknown setting 'foo'
building '/nix/store/225ph4xh41wllk6mbndzizz2rc62baiq-broken.drv'...
other> unrelated builder output
broken> line1
broken> line2
broken> line3
broken> line4
broken> line5
broken> line6
broken> the-builder-says-boom
error: builder for '/nix/store/225ph4xh41wllk6mbndzizz2rc62baiq-broken.drv' failed with exit code 1
`

// Newer Nix without -L quotes the log's last lines in the error.
const stderrQuoted = `building '/nix/store/225ph4xh41wllk6mbndzizz2rc62baiq-broken.drv'...
error: builder for '/nix/store/225ph4xh41wllk6mbndzizz2rc62baiq-broken.drv' failed with exit code 1;
       last 10 log lines:
       > q1
       > q2
       > q3
       > q4
       > q5
       > q6
       > q7
       For full logs, run 'nix log /nix/store/225ph4xh41wllk6mbndzizz2rc62baiq-broken.drv'.
error: 1 dependencies of derivation '/nix/store/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-image.drv' failed to build
`

func TestErrorMessage(t *testing.T) {
	args := []string{"nix", "build", "--extra-experimental-features", "nix-command flakes", "--option", "substituters", "", "--expr", "it's"}
	for _, tc := range []struct {
		name, stderr string
		want, not    []string
	}{
		{"print-build-logs", stderrPrintLogs,
			[]string{"error: builder for '/nix/store/225ph4xh41wllk6mbndzizz2rc62baiq-broken.drv' failed with exit code 1",
				"broken> line3", "broken> the-builder-says-boom"},
			[]string{"warning:", "building '", "other>", "line2"}},
		{"quoted log", stderrQuoted,
			[]string{"last 10 log lines:", "> q3", "> q7", "For full logs", "error: 1 dependencies"},
			[]string{"building '", "> q2"}},
		{"no error line", "a\nb\nc\n", []string{"a\nb\nc"}, nil},
		{"nothing said", "", []string{"exit status 1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := (&Error{Command: Command{Args: args}, Stderr: tc.stderr, Err: errors.New("exit status 1")}).Error()
			cmd := `nix build --extra-experimental-features 'nix-command flakes' --option substituters '' --expr 'it'\''s' failed: `
			if !strings.HasPrefix(msg, cmd) {
				t.Errorf("message %q does not start with the quoted command %q", msg, cmd)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message does not contain %q:\n%s", w, msg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("message contains %q:\n%s", n, msg)
				}
			}
		})
	}
}
