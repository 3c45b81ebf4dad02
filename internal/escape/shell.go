package escape

import (
	"regexp"
	"strings"
)

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// Shell quotes s as one word for a POSIX shell, in the manner of
// shellescape: a word of plainly safe characters is left as it is, anything
// else is single-quoted (a ' inside becomes '\”), and "" is ”. Pasting
// the result runs nothing: $(...), `...`, ${IFS} and ; are literal.
func Shell(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellJoin quotes each argument with Shell and joins them with spaces, so
// a command line can be pasted as it is shown.
func ShellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Shell(a)
	}
	return strings.Join(q, " ")
}
