package verify

import (
	"sort"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// Memory is bounded by what a diff keeps, not by how many entries differ:
// a layer pair keeps at most maxPairFiles differing files in full (paths,
// fields, samples), a whole diff at most maxKeptFiles; the rest are only
// counted, per store path, with the facts attribution needs (causes,
// layers, whether only contents differ). The report shows at most
// Options.MaxFiles files per culprit and MaxDifferences differences
// anyway; counts stay exact. Files are kept in the order the layers list
// them (sorted for Nix layers), pair by pair, so which ones are kept does
// not depend on timing.
var (
	maxPairFiles = 5000
	maxKeptFiles = 20000
)

// maxContentPairs bounds the distinct (A, B) content digests counted per
// store path; past it, the store path is not taken for a copy of another.
const maxContentPairs = 1024

// omitted is what is known of the differing files of one store path that
// were not kept in full.
type omitted struct {
	files  int // differing files
	fields int // their differences
	causes map[string]bool
	layers map[int]bool
	// notCopied is set when a file differs in more than its content (or
	// too many contents differ to compare them).
	notCopied bool
	contents  map[[2]string]bool
}

// omittedSet is omitted by store path ("" for files outside the store).
type omittedSet map[string]*omitted

func (s omittedSet) get(sp string) *omitted {
	o := s[sp]
	if o == nil {
		o = &omitted{causes: map[string]bool{}, layers: map[int]bool{}, contents: map[[2]string]bool{}}
		s[sp] = o
	}
	return o
}

// add counts fd, of layer (-1 when not yet known).
func (s omittedSet) add(fd *fileDiff, layer int) {
	o := s.get(storepath.Of(fd.Path))
	o.files++
	o.fields += len(fd.Fields)
	causes, _ := fieldCauses(fd)
	for _, c := range causes {
		o.causes[c] = true
	}
	if layer >= 0 {
		o.layers[layer] = true
	}
	content := false
	for _, f := range fd.Fields {
		switch f.Field {
		case "content":
			content = true
			if len(o.contents) < maxContentPairs {
				o.contents[[2]string{f.A, f.B}] = true
			} else {
				o.notCopied = true
			}
		case "size":
		default:
			o.notCopied = true
		}
	}
	if !content {
		o.notCopied = true
	}
}

// merge adds t's counts, all of them in layer (when >= 0).
func (s omittedSet) merge(t omittedSet, layer int) {
	for sp, x := range t {
		o := s.get(sp)
		o.files += x.files
		o.fields += x.fields
		o.notCopied = o.notCopied || x.notCopied
		for c := range x.causes {
			o.causes[c] = true
		}
		for l := range x.layers {
			o.layers[l] = true
		}
		if layer >= 0 {
			o.layers[layer] = true
		}
		for p := range x.contents {
			if len(o.contents) < maxContentPairs {
				o.contents[p] = true
			} else {
				o.notCopied = true
			}
		}
	}
}

// fields is the number of differences the set stands for.
func (s omittedSet) fieldCount() int {
	n := 0
	for _, o := range s {
		n += o.fields
	}
	return n
}

// emit keeps fd in out when the pair's quota allows, else counts it and
// gives its samples' bytes back to the budget.
func (d *tarDiffer) emit(out *tarDiff, fd *fileDiff) {
	if len(out.files) < maxPairFiles {
		out.files = append(out.files, *fd)
		return
	}
	if out.omitted == nil {
		out.omitted = omittedSet{}
	}
	out.omitted.add(fd, -1)
	d.budget.give(len(fd.SampleA) + len(fd.SampleB))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// addOmitted adds the counted files of store path sp to its group.
func (g *group) addOmitted(o *omitted) {
	g.omittedFiles += o.files
	for c := range o.causes {
		g.causes[c] = true
	}
	for l := range o.layers {
		g.layers[l] = true
	}
	for p := range o.contents {
		g.contents[p] = true
	}
	g.copied = g.copied && !o.notCopied
}
