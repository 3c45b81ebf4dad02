package escape

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s for one line of a terminal or a CI log: control and format
// characters are shown as escapes, so s can neither move the cursor, set a
// title, split the line nor start a workflow command.
func Text(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	lead := true // only white space so far: a ':' here would start a command
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ':' && lead:
			b.WriteString(`\x3a`)
		case r == '[' && strings.HasSuffix(b.String(), "##"):
			b.WriteString(`\x5b`)
		default:
			writeRune(&b, r)
		}
		if lead && !unicode.IsSpace(r) {
			lead = false
		}
		i += size
	}
	return b.String()
}

// plain reports whether s needs no escaping (the common case: printable
// ASCII that neither starts with ':' nor holds "##[").
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.HasPrefix(strings.TrimLeft(s, " "), ":") && !strings.Contains(s, "##[")
}

// writeRune writes r, or its escape when a terminal or a log would act on
// it or hide it.
func writeRune(b *strings.Builder, r rune) {
	switch {
	case r == '\n':
		b.WriteString(`\n`)
	case r == '\r':
		b.WriteString(`\r`)
	case r == '\t':
		b.WriteString(`\t`)
	case r < 0x20 || r == 0x7f:
		fmt.Fprintf(b, `\x%02x`, r)
	case hidden(r):
		if r > 0xffff {
			fmt.Fprintf(b, `\U%08x`, r)
		} else {
			fmt.Fprintf(b, `\u%04x`, r)
		}
	default:
		b.WriteRune(r)
	}
}

// hidden reports whether r is a control, format (bidi override, zero
// width), space or separator character that would change how a line reads
// or hide what it says.
func hidden(r rune) bool {
	// IsPrint is letters, marks, numbers, punctuation, symbols and the
	// ASCII space: controls, format characters, other spaces, separators,
	// private-use and unassigned code points are all shown escaped.
	return !unicode.IsPrint(r)
}

// Lines is Text for a message of several lines that nixdock composed (an
// error with Nix's own lines): each line is escaped and guarded, and the
// lines stay lines. CR LF and lone CR end a line as the runner reads them.
func Lines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	parts := strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n")
	for i, p := range parts {
		parts[i] = Text(p)
	}
	return strings.Join(parts, "\n")
}

// Quote is s in double quotes with Go's escapes, for values shown cut and
// side by side (verify's "A vs B"); it is also never a command.
func Quote(s string) string {
	return strings.ReplaceAll(strconv.Quote(s), "##[", `##\x5b`)
}

// Cut shortens s to n characters (runes), marking the cut with "…"; escape
// the result as usual.
func Cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
