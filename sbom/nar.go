package sbom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The NAR format (Nix ARchive), as `nix-store --dump` writes it and as Nix
// hashes it for narHash: strings are a little-endian uint64 length, the
// bytes and zero padding to a multiple of 8; a node is
//
//	"(" "type" "regular" ["executable" ""] "contents" <string> ")"
//	"(" "type" "symlink" "target" <string> ")"
//	"(" "type" "directory" { "entry" "(" "name" <string> "node" <node> ")" } ")"
//
// with directory entries sorted by name (byte order), after the magic
// "nix-archive-1".

// errNotNAROrder says a tar stream cannot be turned into a NAR as it comes:
// an entry is out of order, its parent is missing, or it is a hard link.
var errNotNAROrder = errors.New("entries are not in NAR order")

// narWriter writes NAR tokens to w, counting bytes.
type narWriter struct {
	w   io.Writer
	n   int64
	err error
	buf [8]byte
}

func (nw *narWriter) write(p []byte) {
	if nw.err != nil {
		return
	}
	n, err := nw.w.Write(p)
	nw.n += int64(n)
	nw.err = err
}

func (nw *narWriter) uint64(v uint64) {
	binary.LittleEndian.PutUint64(nw.buf[:], v)
	nw.write(nw.buf[:])
}

var zeros [8]byte

func (nw *narWriter) pad(n uint64) {
	if r := n % 8; r != 0 {
		nw.write(zeros[:8-r])
	}
}

func (nw *narWriter) str(s string) {
	nw.uint64(uint64(len(s)))
	nw.write([]byte(s))
	nw.pad(uint64(len(s)))
}

func (nw *narWriter) strs(ss ...string) {
	for _, s := range ss {
		nw.str(s)
	}
}

// contents writes a regular file's contents token from r (size bytes).
func (nw *narWriter) contents(r io.Reader, size int64) {
	nw.str("contents")
	nw.uint64(uint64(size))
	if nw.err != nil {
		return
	}
	n, err := io.CopyN(countWriter{nw}, r, size)
	if err != nil && nw.err == nil {
		nw.err = fmt.Errorf("reading %d bytes of contents (got %d): %w", size, n, err)
	}
	nw.pad(uint64(size))
}

type countWriter struct{ nw *narWriter }

func (c countWriter) Write(p []byte) (int, error) {
	c.nw.write(p)
	return len(p), c.nw.err
}

// regular writes a whole regular-file node.
func (nw *narWriter) regular(r io.Reader, size int64, executable bool) {
	nw.strs("(", "type", "regular")
	if executable {
		nw.strs("executable", "")
	}
	nw.contents(r, size)
	nw.str(")")
}

func (nw *narWriter) symlink(target string) {
	nw.strs("(", "type", "symlink", "target", target, ")")
}

// narStream turns the entries of one store path, arriving in tar order,
// into a NAR, as long as they arrive in NAR order: each directory before
// its children, children sorted by name, depth first (what GNU tar
// --sort=name writes). Anything else returns errNotNAROrder, and the caller
// falls back to spooling the path to disk.
type narStream struct {
	nw      narWriter
	stack   []narDir
	started bool
	closed  bool // the root was a file or symlink: nothing may follow
}

type narDir struct {
	rel  string // path relative to the store path root, "" for the root
	last string // name of the last child written
}

func newNARStream(w io.Writer) *narStream {
	s := &narStream{nw: narWriter{w: w}}
	s.nw.str("nix-archive-1")
	return s
}

// entryKind is the type of a file system object in a NAR.
type entryKind int

const (
	kindRegular entryKind = iota
	kindDirectory
	kindSymlink
)

// narEntry is one file system object below a store path.
type narEntry struct {
	rel        string // relative to the store path root; "" is the root
	kind       entryKind
	executable bool
	target     string // symlink target
	size       int64
	body       io.Reader
}

// add writes one entry, which must come in NAR order.
func (s *narStream) add(e narEntry) error {
	if s.nw.err != nil {
		return s.nw.err
	}
	if s.closed {
		return errNotNAROrder
	}
	if !s.started {
		if e.rel != "" {
			return errNotNAROrder // the root's own entry is missing
		}
		s.started = true
		s.node(e)
		return s.nw.err
	}
	parent, name := splitRel(e.rel)
	if e.rel == "" || !s.openParent(parent) {
		return errNotNAROrder
	}
	top := &s.stack[len(s.stack)-1]
	if top.last != "" && name <= top.last {
		return errNotNAROrder
	}
	top.last = name
	s.nw.strs("entry", "(", "name", name, "node")
	s.node(e)
	if e.kind != kindDirectory {
		s.nw.str(")")
	}
	return s.nw.err
}

// node writes e's node; a directory stays open on the stack.
func (s *narStream) node(e narEntry) {
	switch e.kind {
	case kindDirectory:
		s.nw.strs("(", "type", "directory")
		s.stack = append(s.stack, narDir{rel: e.rel})
	case kindSymlink:
		s.nw.symlink(e.target)
	default:
		s.nw.regular(e.body, e.size, e.executable)
	}
	if e.rel == "" && e.kind != kindDirectory {
		s.closed = true
	}
}

// openParent closes directories until parent is the innermost open one;
// false when parent is not open at all (out of order).
func (s *narStream) openParent(parent string) bool {
	for len(s.stack) > 0 {
		if s.stack[len(s.stack)-1].rel == parent {
			return true
		}
		s.pop()
	}
	return false
}

func (s *narStream) pop() {
	top := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	s.nw.str(")") // the directory node
	if top.rel != "" {
		s.nw.str(")") // the entry around it
	}
}

// finish closes every open directory and returns the NAR's size.
func (s *narStream) finish() (int64, error) {
	if !s.started {
		return 0, errors.New("store path has no entries")
	}
	for len(s.stack) > 0 {
		s.pop()
	}
	return s.nw.n, s.nw.err
}

func splitRel(rel string) (parent, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// dumpDir writes the NAR of the file system object at p to w, as
// `nix-store --dump` does (used for store paths spooled to disk).
func dumpDir(w io.Writer, p string) (int64, error) {
	nw := &narWriter{w: w}
	nw.str("nix-archive-1")
	if err := dumpNode(nw, p); err != nil {
		return 0, err
	}
	return nw.n, nw.err
}

func dumpNode(nw *narWriter, p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		nw.symlink(target)
	case fi.IsDir():
		entries, err := os.ReadDir(p) // sorted by name, byte order
		if err != nil {
			return err
		}
		nw.strs("(", "type", "directory")
		for _, e := range entries {
			nw.strs("entry", "(", "name", e.Name(), "node")
			if err := dumpNode(nw, filepath.Join(p, e.Name())); err != nil {
				return err
			}
			nw.str(")")
		}
		nw.str(")")
	case fi.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		nw.regular(f, fi.Size(), fi.Mode()&0o100 != 0)
		f.Close()
	default:
		return fmt.Errorf("%s: %s is not a regular file, directory or symlink", p, fi.Mode().Type())
	}
	return nw.err
}
