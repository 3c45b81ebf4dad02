package escape

import (
	"io"
	"sync"
	"unicode"
	"unicode/utf8"
)

// NewLineGuard returns a writer that passes everything to w except what
// the GitHub runner would read as a workflow command: a ':' that starts a
// line (after white space) is written as \x3a, and the '[' of a line that
// starts with "##[" as \x5b. CR ends a line as LF does (the runner splits
// on both). Other bytes, colours included, pass unchanged, and so does JSON
// (no JSON line starts with ':' or '#'). It guards streams nixdock does not
// compose itself (Nix's log) and is a second line of defence for the ones
// it does, whose untrusted parts are Text already. Workflow commands
// nixdock means to issue are written to w, not through the guard.
func NewLineGuard(w io.Writer) io.Writer { return &lineGuard{w: w, start: true} }

type lineGuard struct {
	mu    sync.Mutex
	w     io.Writer
	start bool   // no non-space rune on this line yet
	held  []byte // a rune split across writes, at the start of a line
	hash  int    // length of the line's leading run of '#' (-1: none, or over)
}

func (g *lineGuard) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]byte, 0, len(p)+8)
	for _, c := range p {
		if c == '\n' || c == '\r' {
			out = append(out, g.held...)
			out = append(out, c)
			g.held, g.start, g.hash = g.held[:0], true, 0
			continue
		}
		if g.start {
			g.held = append(g.held, c)
			r, ok := lastRune(g.held)
			if !ok {
				continue // a rune split across writes
			}
			switch {
			case unicode.IsSpace(r):
				out = append(out, g.held...)
			case r == ':':
				out = append(out, `\x3a`...)
				g.start, g.hash = false, -1
			case r == '#':
				out = append(out, '#')
				g.start, g.hash = false, 1
			default:
				out = append(out, g.held...)
				g.start, g.hash = false, -1
			}
			g.held = g.held[:0]
			continue
		}
		if g.hash > 0 {
			switch {
			case c == '#':
				g.hash++
			case c == '[' && g.hash >= 2:
				out = append(out, `\x5b`...)
				g.hash = -1
				continue
			default:
				g.hash = -1
			}
		}
		out = append(out, c)
	}
	if _, err := g.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// lastRune decodes the rune that ends b; ok is false while it is still
// incomplete (a multi-byte rune split across writes).
func lastRune(b []byte) (rune, bool) {
	i := len(b) - 1
	for i > 0 && len(b)-i < utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	if !utf8.FullRune(b[i:]) {
		return 0, false
	}
	r, _ := utf8.DecodeRune(b[i:])
	return r, true
}
