package lint

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/nixdock/nixdock-action/internal/humanize"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// treeCopy is a directory copied whole from another store path.
type treeCopy struct {
	dir, of string
	files   int
	bytes   int64
	first   *entry
}

// maxTwins bounds the copies of one content looked at for tree copies, so
// that many identical small files (empty files, licences) cost little.
const maxTwins = 16

// copiedTrees finds directories copied whole from another store path (a
// package that vendors another's tree, cp -r of tzdata's zoneinfo): a
// directory whose every regular file (at least two, outside symlink loops)
// has a twin with the same content at the same place under a directory of
// another store path. The per-file duplicates leave out small files, which
// are most of such a tree; this measures it whole. It returns the
// outermost copies, sorted by directory.
func copiedTrees(m *model, loops []string) []treeCopy {
	files := map[string]*entry{}
	for _, e := range m.entries {
		if e.regular() && e.size > 0 && !underAny(e.path, loops) {
			files[e.path] = e
		} else {
			delete(files, e.path)
		}
	}
	byDigest := map[[sha256.Size]byte][]string{}
	for p, e := range files {
		byDigest[e.digest] = append(byDigest[e.digest], p)
	}
	candidates := map[[2]string]bool{}
	for _, ps := range byDigest {
		if len(ps) < 2 || len(ps) > maxTwins {
			continue
		}
		for _, a := range ps {
			for _, b := range ps {
				if sa, sb := storepath.Of(a), storepath.Of(b); sa != "" && sb != "" && sa != sb {
					addTreeCandidates(candidates, a, b)
				}
			}
		}
	}
	// The copy is in the store path holding more files: it has what it
	// copied and more (its own files, or a tree copied through a symlink
	// loop), so two directories that are copies of each other count once.
	count := map[string]int{}
	for _, e := range m.entries {
		if e.regular() {
			count[storepath.Of(e.path)]++
		}
	}
	var found []treeCopy
	for _, c := range sortedPairs(candidates) {
		if count[storepath.Of(c[0])] < count[storepath.Of(c[1])] {
			continue
		}
		if t, ok := checkTree(m, files, c[0], c[1]); ok {
			found = append(found, t)
		}
	}
	// Outermost first: a copy inside another is the same copy.
	slices.SortStableFunc(found, func(a, b treeCopy) int { return len(a.dir) - len(b.dir) })
	var out []treeCopy
	for _, t := range found {
		if !slices.ContainsFunc(out, func(o treeCopy) bool {
			return t.dir == o.of || t.of == o.dir || strings.HasPrefix(t.dir, o.dir+"/") || strings.HasPrefix(t.dir, o.of+"/")
		}) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b treeCopy) int { return strings.Compare(a.dir, b.dir) })
	return out
}

// addTreeCandidates adds the directory pairs under which a and b are at
// the same relative place, inside their store paths.
func addTreeCandidates(candidates map[[2]string]bool, a, b string) {
	ca, cb := split(a), split(b)
	for k := 1; k < len(ca) && k < len(cb) && ca[len(ca)-k] == cb[len(cb)-k]; k++ {
		da, db := ca[:len(ca)-k], cb[:len(cb)-k]
		if len(da) < 3 || len(db) < 3 { // above a store path
			break
		}
		candidates[[2]string{"/" + strings.Join(da, "/"), "/" + strings.Join(db, "/")}] = true
	}
}

func sortedPairs(m map[[2]string]bool) [][2]string {
	out := make([][2]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return out
}

// checkTree reports whether every file under dir has a twin under of: a
// file with the same content there, or a symlink to one (cp -rL turns
// tzdata's alias links, Africa/Asmera -> Nairobi, into files).
func checkTree(m *model, files map[string]*entry, dir, of string) (treeCopy, bool) {
	t := treeCopy{dir: dir, of: of}
	for p, e := range files {
		if !strings.HasPrefix(p, dir+"/") {
			continue
		}
		twin, ok := files[of+strings.TrimPrefix(p, dir)]
		if !ok {
			_, twin, ok = m.resolveFile(of + strings.TrimPrefix(p, dir))
		}
		if !ok || twin.digest != e.digest {
			return t, false
		}
		t.files++
		t.bytes += e.size
		if t.first == nil || p < t.first.path {
			t.first = e
		}
	}
	return t, t.files >= 2
}

func treeFinding(t treeCopy) Finding {
	return Finding{
		ID: "size-duplicate", Severity: SeverityWarning,
		Title: fmt.Sprintf("%s is a copy of %s: %s, %s wasted", t.dir, t.of, plural(t.files, "file", "files"), humanize.Bytes(t.bytes)),
		Evidence: []string{
			fmt.Sprintf("each of its %s (%s) is identical to the file at the same place under %s (or to the file a symlink there points to)", plural(t.files, "file", "files"), humanize.Bytes(t.bytes), t.of),
			fmt.Sprintf("the tree was copied into %s instead of referring to %s", storepath.Of(t.dir), storepath.Of(t.of)),
		},
		Fix: "Refer to the package in place instead of copying its tree (a symlink, or its store path in the config, " +
			"such as `Env = [ \"TZDIR=${pkgs.tzdata}/share/zoneinfo\" ];`), or depend on one of the two packages only.",
		Location: Location{Path: t.dir, Layer: intp(int(t.first.layer)), StorePath: storepath.Of(t.dir)},
		Bytes:    t.bytes,
	}
}
