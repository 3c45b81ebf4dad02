package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file re-creates the tar stream that nix2container's Go library
// (nix/tar.go, nix/graph.go, nix/utils.go upstream) writes for a layer's
// store paths, byte for byte: nixdock can then hash it and compare it with
// the diff_id nix2container recorded. The rules, all of which change the
// bytes, are:
//
//   - every path is walked (lstat, lexical order) and each file is placed in
//     a tree under its destination name: the source path with the path's
//     rewrite regex replaced; an empty destination is left out, and so is a
//     destination matching ignoreDestination (a directory with its subtree);
//   - parents that were not walked (/, /nix, /nix/store) are directories
//     0755, root:root;
//   - a "~nix~case~hack~N" suffix is removed from every name;
//   - the tree is written depth first, children sorted by destination name;
//   - headers come from archive/tar's FileInfoHeader with the name set to the
//     destination (absolute, no trailing slash), uid/gid 0, uname/gname
//     "root", symlinks mode 0777, mtime 1970-01-01T00:00:01Z, then the
//     path's perms entries whose regex matches the source path, in order;
//   - the header format is left to archive/tar (USTAR, PAX for long names).
//
// Tar sources (archives as layer content) and file capabilities, which some
// nix2container versions add, are refused when the JSON is parsed.

// n2cEpoch1 is the mtime nix2container gives every entry.
var n2cEpoch1 = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)

const n2cCaseHack = "~nix~case~hack~"

// n2cNode is one entry of a layer's tree, keyed by destination name.
type n2cNode struct {
	src      string      // the path as nix2container names it (perms match it)
	fsPath   string      // where nixdock reads it (under Options.StoreRoot)
	info     fs.FileInfo // nil for a parent that was not walked
	opts     *n2cCompiled
	children map[string]*n2cNode
}

func newN2CNode() *n2cNode { return &n2cNode{children: map[string]*n2cNode{}} }

// n2cCompiled is a path's options with their regexes compiled once.
type n2cCompiled struct {
	raw     *N2CPathOptions
	rewrite *regexp.Regexp
	ignore  *regexp.Regexp
	permRes []*regexp.Regexp
}

func compileN2COptions(o *N2CPathOptions) (*n2cCompiled, error) {
	c := &n2cCompiled{raw: o}
	if o == nil {
		return c, nil
	}
	var err error
	if o.Rewrite.Regex != "" {
		if c.rewrite, err = regexp.Compile(o.Rewrite.Regex); err != nil {
			return nil, fmt.Errorf("invalid rewrite regex %q: %w", o.Rewrite.Regex, err)
		}
	}
	// An empty ignoreDestination is no filter (compiled, "" would match
	// everything).
	if o.IgnoreDestination != "" {
		if c.ignore, err = regexp.Compile(o.IgnoreDestination); err != nil {
			return nil, fmt.Errorf("invalid ignoreDestination regex %q: %w", o.IgnoreDestination, err)
		}
	}
	for _, p := range o.Perms {
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, fmt.Errorf("invalid perms regex %q: %w", p.Regex, err)
		}
		c.permRes = append(c.permRes, re)
	}
	return c, nil
}

// destination is where src lands in the layer.
func (c *n2cCompiled) destination(src string) string {
	if c.rewrite == nil {
		return src
	}
	return c.rewrite.ReplaceAllString(src, c.raw.Rewrite.Repl)
}

// n2cTarOptions say where the store paths are read from.
type n2cTarOptions struct {
	// StoreRoot prefixes every path read (a chroot store); empty is /.
	StoreRoot string
}

func (o n2cTarOptions) fsPath(p string) string {
	if o.StoreRoot == "" {
		return p
	}
	return filepath.Join(o.StoreRoot, p)
}

// writeN2CTar writes the layer of paths to w as nix2container does.
func writeN2CTar(w io.Writer, paths []N2CPath, opts n2cTarOptions) error {
	root := newN2CNode()
	for _, p := range paths {
		if err := addN2CPath(root, p, opts); err != nil {
			return err
		}
	}
	if err := unhackN2C(root); err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	buf := make([]byte, 32<<10)
	if err := writeN2CTree(tw, "", root, buf); err != nil {
		return err
	}
	return tw.Close()
}

// addN2CPath walks one path into the tree.
func addN2CPath(root *n2cNode, p N2CPath, opts n2cTarOptions) error {
	c, err := compileN2COptions(p.Options)
	if err != nil {
		return fmt.Errorf("path %s: %w", p.Path, err)
	}
	walkRoot := opts.fsPath(p.Path)
	return filepath.Walk(walkRoot, func(fsPath string, info fs.FileInfo, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p.Path, err)
		}
		src := p.Path
		if fsPath != walkRoot {
			rel, rerr := filepath.Rel(walkRoot, fsPath)
			if rerr != nil {
				return rerr
			}
			src = filepath.Join(p.Path, rel)
		}
		dst := c.destination(src)
		if dst == "" {
			return nil
		}
		if c.ignore != nil && c.ignore.MatchString(dst) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return addN2CFile(root, dst, &n2cNode{src: src, fsPath: fsPath, info: info, opts: c})
	})
}

// addN2CFile places f at dst, creating parents. A file added twice must
// agree with itself: nix2container refuses the same conflicts.
func addN2CFile(root *n2cNode, dst string, f *n2cNode) error {
	cur := root
	for _, part := range splitN2CPath(dst) {
		next, ok := cur.children[part]
		if !ok {
			next = newN2CNode()
			cur.children[part] = next
		}
		cur = next
	}
	if cur.info != nil {
		if cur.info.Mode() != f.info.Mode() {
			return fmt.Errorf("%s is added with mode %v by %s and with mode %v by %s", dst, cur.info.Mode(), cur.src, f.info.Mode(), f.src)
		}
		if cur.info.Mode().IsRegular() && cur.info.Size() != f.info.Size() {
			return fmt.Errorf("%s is added with size %d by %s and with size %d by %s", dst, cur.info.Size(), cur.src, f.info.Size(), f.src)
		}
	}
	// Upstream compares perms only when the file already had options.
	if cur.opts != nil && cur.opts.raw != nil && !reflect.DeepEqual(cur.opts.perms(), f.opts.perms()) {
		return fmt.Errorf("%s is added by %s and by %s with different perms", dst, cur.src, f.src)
	}
	cur.src, cur.fsPath, cur.info, cur.opts = f.src, f.fsPath, f.info, f.opts
	return nil
}

func (c *n2cCompiled) perms() []N2CPerm {
	if c == nil || c.raw == nil {
		return nil
	}
	return c.raw.Perms
}

// splitN2CPath splits a destination into names; "/" is the single name "".
func splitN2CPath(p string) []string {
	parts := strings.Split(filepath.Clean(p), "/")
	if len(parts) == 2 && parts[0] == "" && parts[1] == "" {
		return []string{""}
	}
	return parts
}

// unhackN2C removes Nix's case-hack suffixes from every name of the tree.
func unhackN2C(n *n2cNode) error {
	out := make(map[string]*n2cNode, len(n.children))
	for name, child := range n.children {
		final := unhackN2CName(name)
		if _, dup := out[final]; dup {
			return fmt.Errorf("removing the nix case hack from %s collides with another file", name)
		}
		out[final] = child
		if err := unhackN2C(child); err != nil {
			return err
		}
	}
	n.children = out
	return nil
}

func unhackN2CName(name string) string {
	parts := strings.Split(name, n2cCaseHack)
	if len(parts) != 2 {
		return name
	}
	if idx, err := strconv.ParseInt(parts[1], 10, 64); err != nil || idx < 1 {
		return name
	}
	return parts[0]
}

// writeN2CTree writes n's children, sorted, each before its own children.
func writeN2CTree(tw *tar.Writer, base string, n *n2cNode, buf []byte) error {
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		child := n.children[name]
		dst := filepath.Join(base, name)
		if name == "" {
			dst = "/"
		}
		if err := writeN2CEntry(tw, dst, child, buf); err != nil {
			return err
		}
		if err := writeN2CTree(tw, dst, child, buf); err != nil {
			return err
		}
	}
	return nil
}

func writeN2CEntry(tw *tar.Writer, dst string, n *n2cNode, buf []byte) error {
	if n.info == nil {
		return tw.WriteHeader(&tar.Header{
			Name: dst, Typeflag: tar.TypeDir, Mode: 0o755,
			Uname: "root", Gname: "root", ModTime: n2cEpoch1,
		})
	}
	hdr, link, err := n2cHeader(dst, n)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing the header of %s: %w", n.src, err)
	}
	if link != "" || n.info.IsDir() {
		return nil
	}
	f, err := os.Open(n.fsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	// Hide WriteTo so that CopyBuffer uses buf. A file that changed size
	// since it was walked fails here (archive/tar checks the size).
	if _, err := io.CopyBuffer(tw, struct{ io.Reader }{f}, buf); err != nil {
		return fmt.Errorf("copying %s: %w", n.src, err)
	}
	return nil
}

// n2cHeader is the header nix2container writes for a walked file.
func n2cHeader(dst string, n *n2cNode) (*tar.Header, string, error) {
	var link string
	if n.info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(n.fsPath); err != nil {
			return nil, "", err
		}
	}
	hdr, err := tar.FileInfoHeader(n.info, link)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", n.src, err)
	}
	hdr.Name = dst
	hdr.Uid, hdr.Gid = 0, 0
	hdr.Uname, hdr.Gname = "root", "root"
	if link != "" {
		hdr.Mode = 0o777 // Linux's symlink mode, whatever the host says
	}
	if err := applyN2CPerms(hdr, n); err != nil {
		return nil, "", err
	}
	hdr.ModTime = n2cEpoch1
	// FileInfoHeader fills these from stat; archive/tar drops them for a
	// header of unknown format, which nix2container relies on too.
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	return hdr, link, nil
}

// applyN2CPerms applies every perms entry whose regex matches the source
// path, in order; the last match wins field by field as upstream.
func applyN2CPerms(hdr *tar.Header, n *n2cNode) error {
	if n.opts == nil || n.opts.raw == nil {
		return nil
	}
	for i, p := range n.opts.raw.Perms {
		if !n.opts.permRes[i].MatchString(n.src) {
			continue
		}
		hdr.Uid, hdr.Gid = p.UID, p.GID
		if p.Uname != "" {
			hdr.Uname = p.Uname
		}
		if p.Gname != "" {
			hdr.Gname = p.Gname
		}
		if p.Mode != "" {
			// Sscanf %o as upstream, so that its leniency is reproduced.
			if _, err := fmt.Sscanf(p.Mode, "%o", &hdr.Mode); err != nil {
				return fmt.Errorf("perms mode %q for %s: %w", p.Mode, n.src, err)
			}
		}
		if p.OrMode != "" {
			or, err := strconv.ParseUint(p.OrMode, 8, 12)
			if err != nil {
				return fmt.Errorf("perms orMode %q for %s: %w", p.OrMode, n.src, errors.Unwrap(err))
			}
			hdr.Mode |= int64(or)
		}
	}
	return nil
}
