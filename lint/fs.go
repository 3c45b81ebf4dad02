package lint

import (
	"archive/tar"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// maxHops bounds symlink resolution, as the kernel's ELOOP does.
const maxHops = 40

var (
	errMissing = errors.New("not in the image")
	errLoop    = errors.New("too many levels of symbolic links")
	errNotDir  = errors.New("not a directory")
)

// resolveError says which path failed to resolve, and why.
type resolveError struct {
	Path string
	Err  error
}

func (e *resolveError) Error() string { return fmt.Sprintf("%s: %s", e.Path, e.Err) }
func (e *resolveError) Unwrap() error { return e.Err }

// resolve follows the symlinks of every component of p inside the image's
// filesystem (an absolute target is relative to the image root, and ".."
// stops at the root), as the kernel does inside the container. It returns
// the resolved path and its entry, which is nil for a directory that only
// the paths below it imply. A hard link resolves to the entry it links to.
func (m *model) resolve(p string) (string, *entry, error) {
	rest := split(p)
	cur := "/"
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		e := m.final[next]
		if e != nil && e.typ == tar.TypeSymlink {
			if hops++; hops > maxHops {
				return next, nil, &resolveError{next, errLoop}
			}
			if path.IsAbs(e.link) {
				cur = "/"
			}
			rest = append(split(e.link), rest...)
			continue
		}
		if e == nil && !m.dirs[next] {
			return next, nil, &resolveError{next, errMissing}
		}
		if len(rest) > 0 && e != nil && e.typ != tar.TypeDir {
			return next, nil, &resolveError{next, errNotDir}
		}
		cur = next
	}
	e := m.final[cur]
	if e != nil && e.typ == tar.TypeLink {
		if t := m.final[e.link]; t != nil {
			return cur, t, nil
		}
		return cur, nil, &resolveError{e.link, errMissing}
	}
	return cur, e, nil
}

// resolveFile resolves p and reports whether it is a regular file.
func (m *model) resolveFile(p string) (string, *entry, bool) {
	rp, e, err := m.resolve(p)
	return rp, e, err == nil && e != nil && e.regular()
}

func split(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// fileLocation is the Location of an entry.
func fileLocation(e *entry) Location {
	return Location{Path: e.path, Layer: intp(int(e.layer)), StorePath: storepath.Of(e.path)}
}
