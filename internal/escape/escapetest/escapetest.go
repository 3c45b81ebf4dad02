package escapetest

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Payloads are the attacks: a forged annotation (LF and CR), the runner's
// older command prefix, a terminal title and a bell, HTML, a mention, a
// closed <details>, table pipes, backticks, a command substitution, a bidi
// override and invalid UTF-8.
var Payloads = []string{
	"a\n::error title=INJECTED::x",
	"b\r::warning title=INJECTED::y",
	"::notice::start",
	"##[error]v1",
	"\x1b]0;pwned\a",
	"\x1b[31mred\x1b[0m",
	"<img src=x onerror=alert(1)>",
	"@everyone",
	"</details><details open>",
	"| col | ",
	"x`y``z`",
	"b$(touch${IFS}PWNED)",
	"\u202egnp.exe",
	"bad\xff\xfeutf8",
}

// Hash is a store path hash the payloads are put behind.
const Hash = "0123456789abcdfghijklmnpqrsvwxyz"

// StorePath is a store path whose name is payload i.
func StorePath(i int) string { return "/nix/store/" + Hash + "-" + Payloads[i] }

// forbiddenMarkdown is what no Markdown output may hold, whatever its
// input: raw HTML from a name, a closed block, a live mention, terminal
// escapes.
var forbiddenMarkdown = []string{"<img", "</details><details open>", "@everyone", "\x1b", "\a"}

// CheckText fails t when out, a terminal or log output, holds a control
// character other than a line end, a line the runner would read as a
// command, "##[", or a format character.
func CheckText(t testing.TB, what, out string) {
	t.Helper()
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") {
			t.Errorf("%s: a line starts a workflow command: %q", what, line)
		}
		if strings.Contains(line, "##[") {
			t.Errorf("%s: a line holds the runner's command prefix ##[: %q", what, line)
		}
		if strings.Contains(line, "INJECTED") && strings.HasPrefix(strings.TrimSpace(line), ":") {
			t.Errorf("%s: an injected command starts a line: %q", what, line)
		}
		for _, r := range line {
			if r == '\t' {
				continue // tabwriter and indentation are nixdock's own
			}
			if !unicode.IsPrint(r) && r != ' ' {
				t.Errorf("%s: unescaped %U in line %q", what, r, line)
				break
			}
		}
		if !utf8.ValidString(line) {
			t.Errorf("%s: invalid UTF-8 in line %q", what, line)
		}
	}
}

// CheckMarkdown fails t when out, Markdown for GitHub, holds raw HTML from
// a payload, a live mention, a control character or an injected line.
func CheckMarkdown(t testing.TB, what, out string) {
	t.Helper()
	// The zero-width space that defuses a mention is the one format
	// character Markdown output may hold, and only after '@'.
	out = strings.ReplaceAll(out, "@\u200b", "@-")
	CheckText(t, what, out)
	// Code spans are literal (GitHub shows "<img" in one as text).
	prose := Prose(out)
	for _, s := range forbiddenMarkdown {
		if strings.Contains(prose, s) {
			t.Errorf("%s: Markdown holds %q:\n%s", what, s, out)
		}
	}
}

// Prose is md with each code span (a run of n backticks up to the next run
// of exactly n) replaced by "<code>": the text GitHub reads as Markdown and
// HTML.
func Prose(md string) string {
	var b strings.Builder
	for i := 0; i < len(md); {
		if md[i] == '\\' && i+1 < len(md) {
			b.WriteString(md[i : i+2])
			i += 2
			continue
		}
		if md[i] != '`' {
			b.WriteByte(md[i])
			i++
			continue
		}
		n := runAt(md, i)
		end := -1
		for j := i + n; j < len(md); {
			if md[j] != '`' {
				j++
				continue
			}
			m := runAt(md, j)
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			b.WriteString(md[i : i+n])
			i += n
			continue
		}
		b.WriteString("<code>")
		i = end
	}
	return b.String()
}

func runAt(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	return n
}
