package verify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/record"
)

// markConsequences sets ConsequenceOf on culprits that differ because
// another does: they depend on it at run time (are in its closure's
// reverse), name it in their differing bytes, or hold byte-for-byte copies
// of its differing files (cp -r ${stamp}/share/stamp $out: no reference,
// no store path in the bytes). Copies point both ways; the origin is the
// one the other depends on at build time when the records carry the
// derivation graph, else the likelier one by name (Nix would confirm). The
// config culprit is left alone: the image depends on everything, but its
// config differs on its own.
func (at *attribution) markConsequences(cs []Culprit, groups map[string]*group) {
	deps := make([][]int, len(cs))
	why := make([]map[int]string, len(cs))
	for i, c := range cs {
		why[i] = map[int]string{}
		if c.StorePath == "" || c.StorePath == at.imagePath {
			continue
		}
		refs := at.transitiveRefs(c.StorePath)
		gi := groups[c.StorePath]
		for j, d := range cs {
			if i == j || d.StorePath == "" || d.StorePath == at.imagePath {
				continue
			}
			gj := groups[d.StorePath]
			switch {
			case refs[d.StorePath]:
				why[i][j] = "references " + storepath.Name(d.StorePath) + " at run time"
			case gi.mentions[hashPart(d.StorePath)]:
				why[i][j] = "its differing bytes name " + storepath.Name(d.StorePath) + "'s store path"
			case copiesOf(gi, gj):
				w, ok := at.copyOrigin(cs, groups, i, j)
				if !ok {
					continue
				}
				why[i][j] = w
			default:
				continue
			}
			deps[i] = append(deps[i], j)
		}
	}
	for i := range cs {
		if len(deps[i]) == 0 {
			continue
		}
		if root := firstRoot(i, deps, cs); root >= 0 {
			w, direct := why[i][root]
			if !direct {
				j := deps[i][0]
				w = why[i][j] + " (" + cs[j].StorePath + "), which follows from it"
			}
			cs[i].ConsequenceOf, cs[i].ConsequenceWhy = cs[root].StorePath, w
			cs[i].Causes = append([]string{CauseConsequence}, cs[i].Causes...)
		}
	}
}

// copiesOf reports whether every differing file of gi differs only in
// content, with the same pair of contents as a differing file of gj.
func copiesOf(gi, gj *group) bool {
	if gi == nil || gj == nil || !gi.copied || len(gi.contents) == 0 {
		return false
	}
	for pair := range gi.contents {
		if !gj.contents[pair] {
			return false
		}
	}
	return true
}

// copyOrigin decides whether culprit i, whose differing files are copies of
// j's, is the copy (ok) and says why. With the derivation graph, i is the
// copy when it depends on j at build time. Without it, when the copying
// goes both ways, the likelier origin is the one whose name is in the
// files' path (share/stamp/build-info is stamp's), then the first by store
// path.
func (at *attribution) copyOrigin(cs []Culprit, groups map[string]*group, i, j int) (string, bool) {
	di, dj := cs[i].DrvPath, cs[j].DrvPath
	if _, known := at.drvs[di]; known && dj != "" {
		if at.buildDeps(di)[dj] {
			return "its differing files are byte-for-byte copies of " + storepath.Name(cs[j].StorePath) + "'s, a build-time input", true
		}
		if _, known := at.drvs[dj]; known {
			return "", false // j does not build from i either: the graph says no
		}
	}
	if !copiesOf(groups[cs[j].StorePath], groups[cs[i].StorePath]) {
		return "its differing files are byte-for-byte copies of " + storepath.Name(cs[j].StorePath) + "'s: one root cause (nix-store --realise --check of both would confirm)", true
	}
	ni, nj := nameInPaths(cs[i]), nameInPaths(cs[j])
	if ni == nj && cs[i].StorePath < cs[j].StorePath || ni && !nj {
		return "", false // i is the likelier origin
	}
	how := "the first by store path, as nothing tells them apart"
	if nj {
		how = "its name is in the files' path"
	}
	return fmt.Sprintf("its differing files are byte-for-byte copies of %s's: one root cause, whose likelier origin is %s (%s); nix-store --realise --check of both would confirm",
		storepath.Name(cs[j].StorePath), storepath.Name(cs[j].StorePath), how), true
}

var versionRE = regexp.MustCompile(`-[0-9][^/]*$`)

// nameInPaths reports whether the culprit's package name (without its
// version) is a directory in the path of each of its differing files.
func nameInPaths(c Culprit) bool {
	name := versionRE.ReplaceAllString(storepath.Name(c.StorePath), "")
	if name == "" || len(c.FileDiffs) == 0 {
		return false
	}
	for _, f := range c.FileDiffs {
		if !strings.Contains("/"+relToCulprit(c, f.Path), "/"+name+"/") {
			return false
		}
	}
	return true
}

// buildDeps is every .drv that drv depends on at build time, as the
// records' derivation graph has them.
func (at *attribution) buildDeps(drv string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{drv}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for in := range at.drvs[p].InputDrvs {
			if !seen[in] {
				seen[in] = true
				stack = append(stack, in)
			}
		}
	}
	return seen
}

// ApplyChecks takes in what Nix said of each culprit when it rebuilt its
// deriver (Confirmed, set by nixdock reproduce): a culprit Nix refuted
// that depends at build time (per the records' derivation graph) on
// another culprit is a consequence of it, never a root cause. The
// verdict's root causes are counted again.
func (r *Report) ApplyChecks(recs []*record.Record) {
	at := newAttribution(recs, Options{})
	before := differsVerdict(r, nil)
	changed := false
	for i := range r.Culprits {
		c := &r.Culprits[i]
		if !c.Root() || c.Confirmed == nil || *c.Confirmed || c.DrvPath == "" || slices.Contains(c.Causes, CauseConfig) {
			continue
		}
		deps := at.buildDeps(c.DrvPath)
		for _, d := range r.Culprits {
			if d.StorePath != c.StorePath && d.DrvPath != "" && deps[d.DrvPath] && (d.Confirmed == nil || *d.Confirmed) {
				c.ConsequenceOf = d.StorePath
				c.ConsequenceWhy = "Nix rebuilt it reproducibly (refuted), and it builds from " + storepath.Name(d.StorePath) + ": its bytes follow from it"
				c.Causes = append([]string{CauseConsequence}, c.Causes...)
				changed = true
				break
			}
		}
	}
	if !changed {
		return
	}
	// A consequence of a consequence names the root it follows from.
	of := map[string]string{}
	for _, c := range r.Culprits {
		of[c.StorePath] = c.ConsequenceOf
	}
	for i := range r.Culprits {
		p := r.Culprits[i].ConsequenceOf
		for n := 0; n < len(r.Culprits) && p != "" && of[p] != ""; n++ {
			p = of[p]
		}
		if p != "" {
			r.Culprits[i].ConsequenceOf = p
		}
	}
	sortCulprits(r.Culprits)
	if after := differsVerdict(r, nil); strings.HasPrefix(r.Verdict, before) {
		r.Verdict = after + strings.TrimPrefix(r.Verdict, before)
	}
}
