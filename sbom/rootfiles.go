package sbom

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// Files outside /nix/store (an image's customisation layer: /etc/passwd,
// /etc/group, a /bin symlink into the store, or a base image's files)
// belong to no store path. The SBOM lists them as one component of their
// own, RootFiles, so that every file in the image belongs to a component.

// RootFilesName is the name of the component of the files outside the store.
const RootFilesName = "image root files"

// maxRootFiles bounds the files listed one by one (a base image may hold
// many); past it they are counted and hashed only.
const maxRootFiles = 100000

// RootFile is one file outside the store, as the image holds it after its
// layers are applied.
type RootFile struct {
	Path string `json:"path"` // absolute, "/etc/passwd"
	// Type is "file" or "symlink".
	Type   string `json:"type"`
	Target string `json:"target,omitempty"` // symlink target
	SHA256 string `json:"sha256,omitempty"` // hex, of a file's contents
	Size   int64  `json:"size,omitempty"`
	Mode   int64  `json:"mode,omitempty"`
	Layer  string `json:"layer"` // diff_id of the layer it comes from
}

// RootFiles is the component of the files outside the store.
type RootFiles struct {
	Files []RootFile `json:"files"`
	// More counts files past maxRootFiles, not listed.
	More int `json:"more,omitempty"`
	// SHA256 is the hash of the listing (path, type, target, contents hash),
	// the component's checksum.
	SHA256 string `json:"sha256"`
	// DependsOn are the store paths its symlinks point into or its files
	// name.
	DependsOn []string `json:"dependsOn,omitempty"`
	// CopyOf are build-time inputs whose files these are (with
	// --buildtime, where the store path is on this machine to compare).
	CopyOf []string `json:"copyOf,omitempty"`
}

// rootLayer is what one layer holds outside the store.
type rootLayer struct {
	files   []RootFile
	links   map[string]string // hard link name -> target name, resolved in merge
	removed []string          // whiteouts: paths removed with what is below them
	opaque  []string          // directories whose earlier contents are removed
	refs    *refScanner
}

// isRoot says whether the clean absolute path p is outside the store and
// not one of the directories above it.
func isRoot(p string) bool {
	return p != "/" && p != "/nix" && p != storepath.Dir && !strings.HasPrefix(p, storepath.Dir+"/")
}

// add records one tar entry outside the store.
func (r *rootLayer) add(e *image.TarEntry, body io.Reader) error {
	p, hdr := e.Path, e.Header
	switch e.Whiteout {
	case image.WhiteoutOpaque:
		r.opaque = append(r.opaque, e.Hidden)
		return nil
	case image.WhiteoutPath:
		r.removed = append(r.removed, e.Hidden)
		return nil
	}
	if r.refs == nil {
		r.refs = newRefScanner()
	}
	f := RootFile{Path: p, Mode: hdr.Mode & 0o7777}
	switch hdr.Typeflag {
	case tar.TypeReg:
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(h, r.refs), body)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		f.Type, f.SHA256, f.Size = "file", hex.EncodeToString(h.Sum(nil)), n
	case tar.TypeSymlink:
		f.Type, f.Target = "symlink", hdr.Linkname
		r.refs.Write([]byte(hdr.Linkname + "\x00"))
	case tar.TypeLink:
		if r.links == nil {
			r.links = map[string]string{}
		}
		if isRoot(e.Link) {
			r.links[p] = e.Link
		}
		return nil
	default:
		return nil // directories, devices: no contents to list
	}
	r.files = append(r.files, f)
	return nil
}

// mergeRoot applies the layers' root files in order, as a runtime stacks
// them, and returns the component, or nil when the image has no files
// outside the store.
func mergeRoot(layers []*rootLayer, diffIDs []string, inImage map[[hashLen]byte]string) *RootFiles {
	files := map[string]RootFile{}
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") || dir == "/" }
	seen := map[[hashLen]byte]bool{}
	for i, l := range layers {
		if l == nil {
			continue
		}
		for _, dir := range l.opaque {
			for p := range files {
				if p != dir && under(p, dir) {
					delete(files, p)
				}
			}
		}
		for _, gone := range l.removed {
			for p := range files {
				if under(p, gone) {
					delete(files, p)
				}
			}
		}
		byPath := map[string]RootFile{}
		for _, f := range l.files {
			f.Layer = diffIDs[i]
			files[f.Path] = f
			byPath[f.Path] = f
		}
		for name, target := range l.links {
			if t, ok := byPath[target]; ok {
				t.Path = name
				files[name] = t
			}
		}
		if l.refs != nil {
			for k := range l.refs.seen {
				seen[k] = true
			}
		}
	}
	if len(files) == 0 {
		return nil
	}
	rf := &RootFiles{}
	h := sha256.New()
	for _, p := range sortedKeys(files) {
		f := files[p]
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", f.Path, f.Type, f.Target, f.SHA256)
		if len(rf.Files) < maxRootFiles {
			rf.Files = append(rf.Files, f)
		} else {
			rf.More++
		}
	}
	rf.SHA256 = hex.EncodeToString(h.Sum(nil))
	for k := range seen {
		if p, ok := inImage[k]; ok {
			rf.DependsOn = append(rf.DependsOn, p)
		}
	}
	sort.Strings(rf.DependsOn)
	return rf
}

// hashIndex maps the hashes of the components' store paths to the paths.
func hashIndex(comps []Component) map[[hashLen]byte]string {
	out := make(map[[hashLen]byte]string, len(comps))
	for _, c := range comps {
		if c.BuildOnly {
			continue
		}
		var k [hashLen]byte
		copy(k[:], c.Hash)
		out[k] = c.Path
	}
	return out
}

// markCopies finds, among the build-only components, store paths whose
// files are all at the image root with the same contents (the customisation
// layer copied them there): they are not "not in the image". The store
// path must be on this machine to compare; others stay as they are.
func markCopies(d *Document, storeRoot string) {
	rf := d.RootFiles
	if rf == nil {
		return
	}
	byPath := make(map[string]RootFile, len(rf.Files))
	for _, f := range rf.Files {
		byPath[f.Path] = f
	}
	for i := range d.Components {
		c := &d.Components[i]
		if !c.BuildOnly || strings.HasSuffix(c.Path, ".drv") {
			continue
		}
		if copiedToRoot(filepath.Join(storeRoot, c.Path), byPath) {
			c.CopiedToRoot = RootFilesName
			rf.CopyOf = append(rf.CopyOf, c.Path)
		}
	}
	sort.Strings(rf.CopyOf)
}

// copiedToRoot says whether every file and symlink below dir is at the
// same place under / in files, with the same contents.
func copiedToRoot(dir string, files map[string]RootFile) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	matched := 0
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		abs := "/" + filepath.ToSlash(rel)
		switch {
		case e.IsDir():
			return nil
		case e.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil || files[abs].Type != "symlink" || files[abs].Target != t {
				return errMismatch
			}
		case e.Type().IsRegular():
			f := files[abs]
			if f.Type != "file" {
				return errMismatch
			}
			sum, err := fileSHA256(p)
			if err != nil || sum != f.SHA256 {
				return errMismatch
			}
		default:
			return errMismatch
		}
		matched++
		return nil
	})
	return err == nil && matched > 0
}

var errMismatch = fmt.Errorf("not a copy")

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rootFilesID is the SPDX id and CycloneDX bom-ref of the component.
const rootFilesID = "root-files"

// listing describes each file: "PATH sha256:HEX" or "PATH -> TARGET".
func (rf *RootFiles) listing() []string {
	out := make([]string, 0, len(rf.Files)+1)
	for _, f := range rf.Files {
		if f.Type == "symlink" {
			out = append(out, f.Path+" -> "+f.Target)
		} else {
			out = append(out, f.Path+" sha256:"+f.SHA256)
		}
	}
	if rf.More > 0 {
		out = append(out, fmt.Sprintf("and %d more", rf.More))
	}
	return out
}

// markBaseImages finds, among the image derivation's build-only inputs,
// image archives whose layers are the image's first layers (dockerTools'
// fromImage): their contents are in the image, as those layers. Only
// archives on this machine are opened.
func markBaseImages(ctx context.Context, d *Document, storeRoot, tempDir string) {
	direct := map[string]bool{}
	for _, p := range d.Subject.BuildDependsOn {
		direct[p] = true
	}
	for i := range d.Components {
		c := &d.Components[i]
		if !c.BuildOnly || !direct[c.Path] || !hasArchiveExt(c.Path) {
			continue
		}
		img, err := image.Open(ctx, filepath.Join(storeRoot, c.Path), image.Options{TempDir: tempDir})
		if err != nil {
			continue // not an image: an input like any other
		}
		cfg, err := img.ConfigFile()
		img.Close()
		if err != nil {
			continue
		}
		ids := cfg.RootFS.DiffIDs
		if len(ids) == 0 || len(ids) > len(d.Subject.DiffIDs) {
			continue
		}
		base := true
		for j, id := range ids {
			base = base && id.String() == d.Subject.DiffIDs[j]
		}
		if base {
			c.BaseImageLayers = len(ids)
		}
	}
}

func hasArchiveExt(p string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}
