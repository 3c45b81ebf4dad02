package lint

import (
	"archive/tar"
	"cmp"
	"crypto/sha256"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/nixdock/nixdock-action/internal/humanize"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// sizesByStorePath adds up the file contents of every layer by store path,
// largest first. Files outside the store count under "/".
func sizesByStorePath(m *model) []PathSize {
	by := map[string]*PathSize{}
	for _, e := range m.entries {
		if !e.regular() {
			continue
		}
		sp := storepath.Of(e.path)
		if sp == "" {
			sp = "/"
		}
		ps := by[sp]
		if ps == nil {
			ps = &PathSize{StorePath: sp}
			by[sp] = ps
		}
		ps.Bytes += e.size
		ps.Files++
		if !slices.Contains(ps.Layers, int(e.layer)) {
			ps.Layers = append(ps.Layers, int(e.layer))
		}
	}
	out := make([]PathSize, 0, len(by))
	for _, ps := range by {
		slices.Sort(ps.Layers)
		out = append(out, *ps)
	}
	slices.SortFunc(out, func(a, b PathSize) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(a.StorePath, b.StorePath)
	})
	return out
}

func checkSize(m *model, opts Options) []Finding {
	loops := findLoops(m)
	fs := loopFindings(m, loops)
	fs = append(fs, duplicates(m, loops, opts)...)
	return append(fs, singleLayer(m)...)
}

// findLoops finds the directories that a copy through a symlink loop (such
// as tzdata's zoneinfo/posix -> .) made: a directory C that repeats its
// parent P, every regular file C/r having a twin with the same content at
// P/r (at least two files, so that one shared file is not a loop). A copy
// that followed the link once gives posix/, three times posix/posix/posix/;
// both are found, and a directory of symlinks only (a symlinkJoin mirror)
// is not, since it wastes nothing. It returns the outermost such
// directories, sorted.
func findLoops(m *model) []string {
	// The merged filesystem's regular files, read in place: a copy of
	// them would double the memory of an image of millions of files.
	files := func(p string) ([sha256.Size]byte, bool) {
		e, ok := m.final[p]
		if !ok || !e.regular() {
			return [sha256.Size]byte{}, false
		}
		return e.digest, true
	}
	twins, bad := map[string]int{}, map[string]bool{}
	for p, e := range m.final {
		if !e.regular() {
			continue
		}
		d := e.digest
		for c := path.Dir(p); c != "/" && path.Dir(c) != "/"; c = path.Dir(c) {
			if bad[c] {
				continue
			}
			if twin, ok := files(path.Dir(c) + strings.TrimPrefix(p, c)); ok && twin == d {
				twins[c]++
			} else {
				bad[c] = true
			}
		}
	}
	var out []string
	for _, c := range sortedKeys(twins) {
		if bad[c] || twins[c] < 2 || (len(out) > 0 && strings.HasPrefix(c, out[len(out)-1]+"/")) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func underAny(p string, roots []string) bool {
	for _, r := range roots {
		if strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// loopLink finds the symlink that made the loop at r: one named like r
// whose target is its own directory (tzdata's zoneinfo/posix -> .),
// preferably in another store path (the package that was copied).
func loopLink(m *model, r string) *entry {
	var found *entry
	for _, e := range m.entries {
		if e.typ != tar.TypeSymlink || path.Base(e.path) != path.Base(r) {
			continue
		}
		dir := path.Dir(e.path)
		if t := e.link; t != "." && t != "./" && path.Clean(path.Join(dir, t)) != dir {
			continue
		}
		if found == nil || (storepath.Of(found.path) == storepath.Of(r) && storepath.Of(e.path) != storepath.Of(r)) {
			found = e
		}
	}
	return found
}

func loopFindings(m *model, roots []string) []Finding {
	var fs []Finding
	for _, r := range roots {
		var files int
		var bytes int64
		depth := 0
		name := path.Base(r)
		var first *entry
		for _, e := range m.entries {
			if !strings.HasPrefix(e.path, r+"/") {
				continue
			}
			if first == nil {
				first = e
			}
			depth = max(depth, countName(strings.TrimPrefix(e.path, r), name)+1)
			if e.regular() {
				files++
				bytes += e.size
			}
		}
		parent := path.Dir(r)
		cause := fmt.Sprintf("a symlink %s -> . (as tzdata's zoneinfo/posix) was followed while copying", name)
		if l := loopLink(m, r); l != nil {
			cause = fmt.Sprintf("the symlink %s -> %s (layer %d) points at its own directory, and was followed while copying", l.path, l.link, l.layer)
		}
		fs = append(fs, Finding{
			ID: "size-symlink-loop", Severity: SeverityWarning,
			Title: fmt.Sprintf("%s was copied through a symlink loop, %s deep: %s wasted", r, plural(depth, "level", "levels"), humanize.Bytes(bytes)),
			Evidence: []string{
				fmt.Sprintf("its %s, %s, are copies of what is in %s", plural(files, "file", "files"), humanize.Bytes(bytes), parent),
				cause,
			},
			Fix: "Copy without following symlinks (`cp -a`, not `cp -rL`; no `--dereference`; rsync without -L) where the " +
				"image's files are assembled, or refer to the package in place: `Env = [ \"TZDIR=${pkgs.tzdata}/share/zoneinfo\" ];`.",
			Location: Location{Path: r, Layer: intp(int(first.layer)), StorePath: storepath.Of(r)},
			Bytes:    bytes,
		})
	}
	return fs
}

// duplicates reports file contents stored more than once: in two store
// paths, two places, or two layers.
func duplicates(m *model, loops []string, opts Options) []Finding {
	var fs []Finding
	trees := copiedTrees(m, loops)
	covered := slices.Clone(loops)
	for _, t := range trees {
		covered = append(covered, t.dir)
		if t.bytes >= opts.MinWaste {
			fs = append(fs, treeFinding(t))
		}
	}
	groups := map[[32]byte][]*entry{}
	for _, e := range m.entries {
		if e.regular() && e.size >= opts.MinDuplicateSize && !underAny(e.path, covered) {
			groups[e.digest] = append(groups[e.digest], e)
		}
	}
	for _, g := range groups {
		wasted := int64(len(g)-1) * g[0].size
		if len(g) < 2 || wasted < opts.MinWaste {
			continue
		}
		fs = append(fs, duplicateFinding(g, wasted))
	}
	slices.SortFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(a.Location.Path, b.Location.Path)
	})
	if len(fs) > opts.MaxDuplicates {
		fs = fs[:opts.MaxDuplicates]
	}
	return fs
}

func duplicateFinding(g []*entry, wasted int64) Finding {
	slices.SortFunc(g, func(a, b *entry) int {
		if c := cmp.Compare(a.path, b.path); c != 0 {
			return c
		}
		return cmp.Compare(a.layer, b.layer)
	})
	var ev []string
	paths := map[string]bool{}
	for i, e := range g {
		paths[storepath.Of(e.path)] = true
		if i == 5 {
			ev = append(ev, fmt.Sprintf("and %d more copies", len(g)-5))
			break
		}
		ev = append(ev, fmt.Sprintf("%s (layer %d)", e.path, e.layer))
	}
	ev = append(ev, fmt.Sprintf("%d copies of %s with sha256 %x: %s wasted", len(g), humanize.Bytes(g[0].size), g[0].digest[:8], humanize.Bytes(wasted)))
	fix := "Depend on one package that holds the file instead of copying it into several (vendored copies of a " +
		"dependency are the usual cause): take it from the dependency's store path, or symlink to it."
	if len(paths) == 1 {
		fix = "The same store path's file is stored more than once (overwritten in a later layer, or copied within " +
			"the path): build the file once, and let later layers refer to it instead of copying it."
	}
	return Finding{
		ID: "size-duplicate", Severity: SeverityWarning,
		Title:    fmt.Sprintf("The same %s file is stored %d times (%s wasted)", humanize.Bytes(g[0].size), len(g), humanize.Bytes(wasted)),
		Evidence: ev, Fix: fix, Location: fileLocation(g[0]), Bytes: wasted,
	}
}

// singleLayer estimates what one layer per store path would save when the
// whole closure is in one layer: a change to the program's own store path
// then sends only that path, not everything.
func singleLayer(m *model) []Finding {
	if len(m.layers) != 1 {
		return nil
	}
	sizes := sizesByStorePath(m)
	var store []PathSize
	var total int64
	for _, s := range sizes {
		total += s.Bytes
		if s.StorePath != "/" {
			store = append(store, s)
		}
	}
	if len(store) < 2 {
		return nil
	}
	changed := store[0]
	why := "the largest store path"
	if sp := commandStorePath(m); sp != "" {
		for _, s := range store {
			if s.StorePath == sp {
				changed, why = s, "the program's store path"
			}
		}
	}
	saved := total - changed.Bytes
	return []Finding{{
		ID: "size-single-layer", Severity: SeverityNote,
		Title: fmt.Sprintf("One layer holds all %d store paths: one layer per path would save %s per update", len(store), humanize.Bytes(saved)),
		Evidence: []string{
			fmt.Sprintf("layer 0 holds %d store paths, %s", len(store), humanize.Bytes(total)),
			fmt.Sprintf("a change to %s (%s, %s) re-sends all %s; with one layer per store path it sends %s, and unchanged paths stay cached and shared with other images",
				changed.StorePath, why, humanize.Bytes(changed.Bytes), humanize.Bytes(total), humanize.Bytes(changed.Bytes)),
		},
		Fix: "Build with dockerTools.buildLayeredImage or dockerTools.streamLayeredImage (one layer per store path, up to " +
			"`maxLayers`, 100 by default) instead of dockerTools.buildImage.",
		Location: Location{Layer: intp(0)},
		Bytes:    saved,
	}}
}

// commandStorePath is the store path of the program the image runs.
func commandStorePath(m *model) string {
	for _, k := range []string{"Entrypoint", "Cmd"} {
		argv, _ := stringList(configField(m, k))
		if len(argv) == 0 {
			continue
		}
		rp, e, err := m.resolve(argv[0])
		if err == nil && e != nil && e.typ != tar.TypeDir {
			return storepath.Of(rp)
		}
		return storepath.Of(argv[0])
	}
	return ""
}

func countName(p, name string) int {
	n := 0
	for _, c := range split(p) {
		if c == name {
			n++
		}
	}
	return n
}
