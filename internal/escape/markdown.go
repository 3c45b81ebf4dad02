package escape

import "strings"

// zwsp after '@' keeps GitHub from reading a mention (it wants a letter or
// digit right after the '@') while the text reads the same.
const zwsp = "\u200b"

// mdReplacer escapes what Markdown (GitHub Flavored) would read as syntax
// in inline text or a table cell: HTML, emphasis, links and images, code,
// strikethrough, table pipes, backslash escapes, and mentions.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"~", `\~`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "@", "@"+zwsp,
)

// Markdown returns s as inline Markdown text, safe in a paragraph, a list
// item or a table cell: one line, no raw HTML, no emphasis or links, no
// mention.
func Markdown(s string) string { return mdReplacer.Replace(Text(s)) }

var htmlReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;", "|", "&#124;", "@", "@"+zwsp,
)

// HTML returns s as the text of an HTML element (such as <summary>), or an
// attribute value in double quotes: one line, no markup, no mention, and
// no '|' (an HTML cell may sit in a Markdown table).
func HTML(s string) string { return htmlReplacer.Replace(Text(s)) }

// Code returns s as Markdown inline code, safe in a table cell: the fence
// is longer than any backtick run in s, '|' is escaped for tables (GitHub
// shows it as '|'), and s is one line. Code spans are literal, so HTML,
// emphasis and mentions inside are shown, not read. "" stays "".
func Code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(Text(s), "|", `\|`)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	// A leading or trailing backtick would join the fence, and a space on
	// both ends would be stripped: pad with one space, which is stripped.
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ' && strings.Trim(s, " ") != "") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// CodeBlock returns s as a fenced code block (without a final newline):
// the fence is longer than any backtick run in s, and each line is Text,
// so no line closes the block early or holds a control character.
func CodeBlock(lang, s string) string {
	s = Lines(s)
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + s + "\n" + fence
}
