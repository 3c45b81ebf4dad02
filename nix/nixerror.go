package nix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// Error is a failed Nix call: the command line and what Nix said.
type Error struct {
	Command Command
	Stderr  string
	Err     error
}

// maxLogLines is how many lines of the failing builder's log an Error
// message keeps; the whole log went to Nix.Log already.
const maxLogLines = 5

// Error is the command, shell-quoted so it can be pasted, and Nix's own
// error lines with a few lines of the failing builder's log, rather than
// the tail of everything Nix printed (progress, warnings, other builders).
func (e *Error) Error() string {
	msg := nixErrorLines(e.Stderr)
	if msg == "" {
		msg = lastLines(stripANSI(e.Stderr), 6)
	}
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s failed: %s", e.Command, msg)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	// builderRE finds the failing derivation's name in Nix's error, such as
	// builder for '/nix/store/<hash>-broken.drv' failed.
	builderRE = regexp.MustCompile(`builder for '` + storepath.Dir + `/` + storepath.HashPattern + `-([^']+)\.drv' failed`)
)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// nixErrorLines returns Nix's "error:" lines with their indented
// continuation lines, keeping at most maxLogLines of any quoted build log
// ("> ..."). When no log is quoted (nix build -L prints the log as it goes,
// as "name> ..." lines, and leaves it out of the error), the last lines of
// the failing builder's log are added.
func nixErrorLines(stderr string) string {
	lines := strings.Split(stripANSI(stderr), "\n")
	var out []string
	logged := false
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "error:") {
			continue
		}
		out = append(out, lines[i])
		var quoted []string
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
			i++
			if strings.HasPrefix(strings.TrimSpace(lines[i]), ">") {
				quoted = append(quoted, lines[i])
				continue
			}
			if len(quoted) > 0 {
				out = append(out, lastN(quoted, maxLogLines)...)
				logged, quoted = true, nil
			}
			out = append(out, lines[i])
		}
		if len(quoted) > 0 {
			out = append(out, lastN(quoted, maxLogLines)...)
			logged = true
		}
	}
	if len(out) == 0 {
		return ""
	}
	if !logged {
		out = append(out, builderLog(lines, strings.Join(out, "\n"))...)
	}
	return strings.Join(out, "\n")
}

// builderLog is the last lines nix build -L printed for the builder that
// errs names, indented under the error.
func builderLog(lines []string, errs string) []string {
	m := builderRE.FindStringSubmatch(errs)
	if m == nil {
		return nil
	}
	prefix := m[1] + "> "
	var log []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			log = append(log, "       "+l)
		}
	}
	return lastN(log, maxLogLines)
}

func lastN(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
