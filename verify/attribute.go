package verify

import (
	"context"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// attribution is what attribution knows about the builds: the closure
// (store path to path info) and the image's own store path and deriver.
type attribution struct {
	closure map[string]record.PathInfo
	// imagePath and imageDrv are the image's out and .drv paths, which own
	// the config and any files outside the store.
	imagePath, imageDrv string
	// store is the Nix store the hints name ("" for the default);
	// noStore leaves it out (Options.NoStoreInHints).
	store    string
	noStore  bool
	maxFiles int
	// drvs is the build-time graph the records carry (.drv path to
	// derivation); empty without records.
	drvs map[string]record.Derivation
}

func newAttribution(recs []*record.Record, opts Options) *attribution {
	at := &attribution{closure: map[string]record.PathInfo{}, maxFiles: opts.MaxFiles, noStore: opts.NoStoreInHints,
		drvs: map[string]record.Derivation{}}
	for _, r := range recs {
		if r == nil {
			continue
		}
		for p, d := range r.Derivations {
			at.drvs[p] = d
		}
		for _, p := range r.Closure {
			if old, ok := at.closure[p.Path]; !ok || old.Deriver == "" {
				at.closure[p.Path] = p
			}
		}
		if at.imagePath == "" {
			at.imagePath, at.imageDrv, at.store = r.OutPath, r.DrvPath, r.Store
		}
	}
	return at
}

// lookupNix asks Nix for the path info of culprits the records do not
// cover (nixdock diff without records). Errors leave the culprit unknown.
func (at *attribution) lookupNix(ctx context.Context, nix *nix.Runner, paths []string) {
	if nix == nil {
		return
	}
	var missing []string
	for _, p := range paths {
		if _, ok := at.closure[p]; !ok && p != "" {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	infos, err := nix.PathInfo(ctx, false, missing...)
	if err != nil {
		return
	}
	for _, p := range infos {
		at.closure[p.Path] = p
	}
	at.store = nix.Store
}

var storePathRE = regexp.MustCompile(storepath.Dir + `/(` + storepath.HashPattern + `)-` + storepath.NamePattern)

// group collects the differing files of one store path.
type group struct {
	storePath string
	files     []FileEvidence
	seen      map[string]bool // files already collected (from another pair)
	causes    map[string]bool
	evidence  string
	builders  []string
	// mentions are the store path hashes the differing contents name.
	mentions map[string]bool
	// contents are the (A, B) content digests of the differing files;
	// copied is false once a file differs in more than its content.
	contents map[[2]string]bool
	copied   bool
	layers   map[int]bool
	// omittedFiles counts differing files that were only counted.
	omittedFiles int
}

func (g *group) addBuilders(bs []string) {
	for _, b := range bs {
		if !slices.Contains(g.builders, b) {
			g.builders = append(g.builders, b)
		}
	}
}

// culprits groups file differences by store path, infers causes and sorts
// root causes before consequences. With several pairs (three or more
// records), a store path's files are merged: each file is listed once, with
// the evidence of the first pair it differs in.
func (at *attribution) culprits(pairs []pairDiff) []Culprit {
	groups := map[string]*group{}
	get := func(sp string) *group {
		g, ok := groups[sp]
		if !ok {
			g = &group{storePath: sp, seen: map[string]bool{}, causes: map[string]bool{}, mentions: map[string]bool{},
				contents: map[[2]string]bool{}, copied: true, layers: map[int]bool{}}
			groups[sp] = g
		}
		return g
	}
	for _, p := range pairs {
		for i := range p.res.files {
			fd := &p.res.files[i]
			sp := storepath.Of(fd.Path)
			if sp == "" {
				sp = at.imagePath
			}
			g := get(sp)
			g.addBuilders(p.builders)
			at.addFile(g, fd)
		}
		for _, sp := range sortedKeys(p.res.omitted) {
			key := sp
			if key == "" {
				key = at.imagePath
			}
			g := get(key)
			g.addBuilders(p.builders)
			g.addOmitted(p.res.omitted[sp])
		}
		if cd := p.res.config; cd != nil && cd.own {
			g := get(at.imagePath)
			g.addBuilders(p.builders)
			g.causes[CauseConfig] = true
			if cd.created {
				g.causes[CauseTimestamp] = true
				g.evidence = createdNote
			} else if g.evidence == "" && len(cd.diffs) > 0 {
				g.evidence = configEvidence(cd)
			}
		}
	}
	out := make([]Culprit, 0, len(groups))
	for _, g := range groups {
		out = append(out, at.culprit(g))
	}
	at.markConsequences(out, groups)
	sortCulprits(out)
	return out
}

// addFile adds one differing file to its store path's group.
func (at *attribution) addFile(g *group, fd *fileDiff) {
	causes, ev := fieldCauses(fd)
	for _, c := range causes {
		g.causes[c] = true
	}
	for _, s := range [][]byte{fd.SampleA, fd.SampleB} {
		for _, m := range storePathRE.FindAllSubmatch(s, -1) {
			g.mentions[string(m[1])] = true
		}
	}
	g.layers[fd.Layer] = true
	content := false
	for _, f := range fd.Fields {
		switch f.Field {
		case "content":
			g.contents[[2]string{f.A, f.B}], content = true, true
		case "size":
		default:
			g.copied = false
		}
	}
	g.copied = g.copied && content
	if g.seen[fd.Path] {
		return
	}
	g.seen[fd.Path] = true
	g.files = append(g.files, FileEvidence{Path: fd.Path, Causes: causes, Evidence: ev})
	if g.evidence == "" && ev != "" {
		g.evidence = strings.TrimPrefix(fd.Path, g.storePath+"/") + ": " + ev
	}
}

func firstOwnConfigDiff(ds []Difference) Difference {
	for _, d := range ds {
		if !strings.HasPrefix(d.Field, "rootfs.diff_ids") {
			return d
		}
	}
	return ds[0]
}

func (at *attribution) culprit(g *group) Culprit {
	sort.SliceStable(g.files, func(i, j int) bool { return g.files[i].Path < g.files[j].Path })
	c := Culprit{StorePath: g.storePath, FileDiffs: g.files, Evidence: g.evidence, Builders: g.builders}
	if at.maxFiles > 0 && len(c.FileDiffs) > at.maxFiles {
		c.MoreFiles = len(c.FileDiffs) - at.maxFiles
		c.FileDiffs = c.FileDiffs[:at.maxFiles]
	}
	c.MoreFiles += g.omittedFiles
	// [] rather than null in JSON, like the report's other lists.
	c.Files = make([]string, len(c.FileDiffs))
	for i, f := range c.FileDiffs {
		c.Files[i] = f.Path
	}
	for cause := range g.causes {
		c.Causes = append(c.Causes, cause)
	}
	sortCauses(c.Causes)
	c.DrvPath = at.deriver(g.storePath)
	c.Hint = at.hint(c)
	return c
}

func (at *attribution) deriver(sp string) string {
	if sp != "" && sp == at.imagePath {
		return at.imageDrv
	}
	return at.closure[sp].Deriver
}

// hint is the command that rebuilds the culprit's derivation and compares:
// the one reproduce runs to confirm a culprit (nix.Runner.CheckCommand).
func (at *attribution) hint(c Culprit) string {
	n := &nix.Runner{}
	// A store on another builder (a record from another runner) means
	// nothing here: name it only when it exists on this machine.
	if root := nix.StoreRoot(at.store); root != "" && !at.noStore && dirExists(root) {
		n.Store = at.store
	}
	// Paths come from images and records: quoted, pasting the hint runs
	// nothing but Nix.
	switch {
	case c.DrvPath != "":
		return n.CheckCommand(c.DrvPath).String()
	case c.StorePath != "":
		check := n.CheckCommand("").Args
		return nix.Command{Args: check[:len(check)-1]}.String() + " \"$(" + n.DeriverCommand(c.StorePath).String() + ")\""
	}
	return "rebuild the image and compare: nixdock reproduce"
}

// firstRoot is the sorted-first culprit without dependencies reachable from
// i, or -1 (a cycle of mentions: then i counts as a root itself).
func firstRoot(i int, deps [][]int, cs []Culprit) int {
	seen := map[int]bool{i: true}
	queue := append([]int(nil), deps[i]...)
	best := -1
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		if seen[j] {
			continue
		}
		seen[j] = true
		if len(deps[j]) == 0 {
			if best < 0 || cs[j].StorePath < cs[best].StorePath {
				best = j
			}
			continue
		}
		queue = append(queue, deps[j]...)
	}
	return best
}

func (at *attribution) transitiveRefs(sp string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sp}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, r := range at.closure[p].References {
			if r != p && !seen[r] {
				seen[r] = true
				stack = append(stack, r)
			}
		}
	}
	return seen
}

func hashPart(sp string) string { return storepath.Hash(sp) }

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
