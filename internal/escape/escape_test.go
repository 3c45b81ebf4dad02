package escape_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nixdock/nixdock-action/internal/escape"
	"github.com/nixdock/nixdock-action/internal/escape/escapetest"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"/nix/store/abc-hello":         "/nix/store/abc-hello",
		"a\n::error title=INJECTED::x": `a\n::error title=INJECTED::x`,
		"::error::x":                   `\x3a:error::x`,
		"  ::error::x":                 `  \x3a:error::x`,
		"\x1b]0;pwned\a":               `\x1b]0;pwned\x07`,
		"tab\there\r":                  `tab\there\r`,
		"##[error]x":                   `##\x5berror]x`,
		"\u202egnp.exe":                `\u202egnp.exe`,
		"bad\xffbyte":                  `bad\xffbyte`,
		"naïve ☃":                      "naïve ☃",
		"\u0085next":                   `\u0085next`,
		"a:b":                          "a:b",
		"\u00a0::x":                    `\u00a0\x3a:x`,
		"":                             "",
	} {
		if got := escape.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLinesKeepsLinesAndGuardsEach(t *testing.T) {
	got := escape.Lines("error: building\n::error::forged\r\x1b[2Jclear")
	want := "error: building\n\\x3a:error::forged\n\\x1b[2Jclear"
	if got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

func TestMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"hello-2.12":                   "hello-2.12",
		"<img src=x onerror=alert(1)>": "&lt;img src=x onerror=alert(1)&gt;",
		"@everyone":                    "@\u200beveryone",
		"a|b":                          `a\|b`,
		"*x* _y_ [l](u) ~s~ `c`":       "\\*x\\* \\_y\\_ \\[l\\](u) \\~s\\~ \\`c\\`",
		"</details>":                   "&lt;/details&gt;",
		"l1\nl2":                       `l1\\nl2`,
		"&amp;":                        "&amp;amp;",
	} {
		if got := escape.Markdown(in); got != want {
			t.Errorf("Markdown(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"plain":       "`plain`",
		"a`b":         "``a`b``",
		"x``y`":       "``` x``y` ```",
		"`":           "`` ` ``",
		" a ":         "`  a  `",
		"a|b":         "`a\\|b`",
		"l1\nl2":      "`l1\\nl2`",
		"<b>@x</b>":   "`<b>@x</b>`",
		"::error::x":  "`\\x3a:error::x`",
		"b$(touch x)": "`b$(touch x)`",
	} {
		if got := escape.Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHTML(t *testing.T) {
	got := escape.HTML(`</summary><script>alert("x")</script> @all & 'q'`)
	want := "&lt;/summary&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; @\u200ball &amp; &#39;q&#39;"
	if got != want {
		t.Errorf("HTML = %q, want %q", got, want)
	}
}

func TestCommand(t *testing.T) {
	got := escape.Command("error", map[string]string{"title": "a:b,c%\nd", "file": "f.nix"}, "50%\r\n::x")
	want := "::error file=f.nix,title=a%3Ab%2Cc%25%0Ad::50%25%0D%0A::x"
	if got != want {
		t.Errorf("Command = %q, want %q", got, want)
	}
	if got := escape.Command("endgroup", nil, ""); got != "::endgroup::" {
		t.Errorf("Command(endgroup) = %q", got)
	}
}

// TestShellRoundTrip runs each quoted payload through a real shell: the
// shell must see exactly the payload as one word, and run nothing.
func TestShellRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("sh is needed to check shell quoting:", err)
	}
	dir := t.TempDir()
	words := append([]string{"", "plain", "it's", "'", "a b", "$HOME", "`id`", "\\", "!x", "-n", "~", "*"}, escapetest.Payloads...)
	for _, w := range words {
		cmd := exec.Command(sh, "-c", "printf %s "+escape.Shell(w))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("sh -c printf %%s %s: %v", escape.Shell(w), err)
			continue
		}
		if string(out) != w {
			t.Errorf("Shell(%q) = %s reads back as %q", w, escape.Shell(w), out)
		}
	}
	// The hint of issue 17: pasting it must not create PWNED.
	hint := "nix-store --query --deriver " + escape.Shell("/nix/store/"+escapetest.Hash+"-b$(touch${IFS}PWNED)") + " || true"
	if err := exec.Command(sh, "-c", "cd "+escape.Shell(dir)+" && "+hint).Run(); err != nil {
		t.Logf("%s: %v (expected: no such path)", hint, err)
	}
	if m, _ := filepathGlob(dir); len(m) > 0 {
		t.Errorf("pasting the hint created %v", m)
	}
	if got := escape.ShellJoin([]string{"nix-build", "--option", "substituters", ""}); got != "nix-build --option substituters ''" {
		t.Errorf("ShellJoin = %q", got)
	}
}

func TestLineGuard(t *testing.T) {
	var b bytes.Buffer
	g := escape.NewLineGuard(&b)
	// Written in pieces, as a child's log arrives: the guard keeps state
	// across writes, splits on CR too, and leaves colours alone.
	for _, p := range []string{"ok ::x ##[mid\n  ", ":", ":error::forged\r::warning::cr\n#", "#[error]v1 \x1b[31mred\x1b[0m\n", "\xe2\x80", "\x83::b\n", `  "##[json]": ":"` + "\n"} {
		if _, err := g.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	want := "ok ::x ##[mid\n  \\x3a:error::forged\r\\x3a:warning::cr\n##\\x5berror]v1 \x1b[31mred\x1b[0m\n\u2003\\x3a:b\n" + `  "##[json]": ":"` + "\n"
	if b.String() != want {
		t.Errorf("guarded = %q, want %q", b.String(), want)
	}
}

func FuzzEscape(f *testing.F) {
	for _, p := range escapetest.Payloads {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text := escape.Text(s)
		checkLine(t, "Text", text)
		quoted := escape.Quote(s)
		checkLine(t, "Quote", quoted)
		for name, md := range map[string]string{"Markdown": escape.Markdown(s), "HTML": escape.HTML(s), "Code": escape.Code(s)} {
			checkLine(t, name, strings.ReplaceAll(md, "@\u200b", "@"))
			if name != "Code" && strings.ContainsAny(md, "<>") {
				t.Errorf("%s(%q) = %q holds raw HTML", name, s, md)
			}
			if name != "Code" && strings.Contains(strings.ReplaceAll(md, `\|`, ""), "|") {
				t.Errorf("%s(%q) = %q holds an unescaped |", name, s, md)
			}
			if i := strings.Index(md, "@"); i >= 0 && name != "Code" && !strings.HasPrefix(md[i:], "@\u200b") {
				t.Errorf("%s(%q) = %q holds a live mention", name, s, md)
			}
		}
		if code := escape.Code(s); code != "" {
			fence := code[:strings.IndexFunc(code, func(r rune) bool { return r != '`' })]
			inner := strings.TrimSuffix(strings.TrimPrefix(code, fence), fence)
			if strings.Contains(inner, fence) {
				t.Errorf("Code(%q) = %q: the fence occurs inside", s, code)
			}
		}
		if got, ok := unquoteShell(escape.Shell(s)); !ok || got != s {
			t.Errorf("Shell(%q) = %q reads back as %q (ok %v)", s, escape.Shell(s), got, ok)
		}
		cmd := escape.Command("error", map[string]string{"title": s}, s)
		header, _, _ := strings.Cut(strings.TrimPrefix(cmd, "::"), "::")
		if strings.ContainsAny(cmd, "\r\n") || header != "error title="+escape.CommandProperty(s) || strings.Contains(header, ":") {
			t.Errorf("Command with %q = %q is not one command", s, cmd)
		}
		var b bytes.Buffer
		if _, err := escape.NewLineGuard(&b).Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.FieldsFunc(b.String(), func(r rune) bool { return r == '\n' || r == '\r' }) {
			if trim := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(trim, ":") || strings.HasPrefix(trim, "##[") {
				t.Errorf("guarded %q holds a command line %q", s, line)
			}
		}
	})
}

// checkLine asserts the Text invariants: valid UTF-8, printable runes
// only, no workflow command.
func checkLine(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			t.Errorf("%s: %q holds %U", what, s, r)
			return
		}
	}
	if strings.HasPrefix(strings.TrimLeft(s, " "), ":") || strings.Contains(s, "##[") {
		t.Errorf("%s: %q could start a workflow command", what, s)
	}
}

// unquoteShell reads a word as a POSIX shell would, for the quoting Shell
// writes (bare safe characters and single-quoted runs); ok is false for
// anything else, such as an unquoted special character.
func unquoteShell(w string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == '\'':
			j := strings.IndexByte(w[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(w[i+1 : i+1+j])
			i += j + 1
		case c == '\\' && i+1 < len(w):
			b.WriteByte(w[i+1])
			i++
		case strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-", c) >= 0:
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	return b.String(), w != ""
}

func filepathGlob(dir string) ([]string, error) { return filepath.Glob(filepath.Join(dir, "*")) }

// recorder counts the failures a check reports, without failing the test.
type recorder struct {
	testing.TB
	n int
}

func (r *recorder) Errorf(string, ...any) { r.n++ }
func (r *recorder) Helper()               {}

// TestCheckersCatchRawPayloads: the checks every renderer's test uses fail
// on the raw payloads, and pass on their escaped forms.
func TestCheckersCatchRawPayloads(t *testing.T) {
	for _, p := range escapetest.Payloads {
		if strings.Contains(p, "PWNED") || strings.Contains(p, "| col") || strings.Contains(p, "`") {
			continue // harmless in text: caught by shell and Markdown tests
		}
		r := &recorder{TB: t}
		escapetest.CheckText(r, "raw", p+"\n")
		if p != "@everyone" && !strings.HasPrefix(p, "<") && r.n == 0 {
			t.Errorf("CheckText passed the raw payload %q", p)
		}
		r = &recorder{TB: t}
		escapetest.CheckMarkdown(r, "raw", p+"\n")
		if r.n == 0 {
			t.Errorf("CheckMarkdown passed the raw payload %q", p)
		}
		r = &recorder{TB: t}
		escapetest.CheckText(r, "escaped", escape.Text(p))
		escapetest.CheckMarkdown(r, "escaped", escape.Markdown(p)+" "+escape.Code(p))
		if r.n != 0 {
			t.Errorf("the checks reject the escaped payload %q", p)
		}
	}
}

func TestRemote(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vciJ9.c2lnbmF0dXJl"
	body := "POST https://fulcio/api/v2/signingCert returned 400: {\"echo\":\"Bearer " + jwt + "\",\n\"raw\":\"hunter2\x1b[2J\"}" + strings.Repeat(" pad", 100)
	got := escape.Remote(body, 160, "hunter2")
	if strings.Contains(got, "eyJ") || strings.Contains(got, "hunter2") || strings.ContainsAny(got, "\n\x1b") {
		t.Errorf("Remote kept a secret or a control character: %q", got)
	}
	if !strings.Contains(got, "[redacted token]") || !strings.Contains(got, "returned 400") {
		t.Errorf("Remote = %q", got)
	}
	if n := utf8.RuneCountInString(got); n > 161+8 {
		t.Errorf("Remote is %d characters long", n)
	}
}
