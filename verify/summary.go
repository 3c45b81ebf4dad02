package verify

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// diffItem is one line of the Differences summary that text and Markdown
// show: a culprit and what of the differences it explains, with its
// consequences under it. JSON keeps every difference.
type diffItem struct {
	culprit int
	files   map[int]int // layer -> files
	layers  map[int]bool
	fields  []string // config fields
	subs    []*diffItem
}

var diffIDFieldRE = regexp.MustCompile(`^rootfs\.diff_ids\[(\d+)\]$`)

// summarize groups the differences by culprit: a file's differences, the
// layer digests and rootfs entries of the layers its files are in, and the
// config fields go to the culprit that explains them; consequences go
// under their root cause. rest are the differences no culprit explains;
// digests are the image digests that follow from the items.
func summarize(r *Report) (items []*diffItem, digests []string, rest []Difference) {
	byPath, byFile := map[string]int{}, map[string]int{}
	config := -1
	for i, c := range r.Culprits {
		byPath[c.StorePath] = i
		for _, f := range c.Files {
			byFile[f] = i
		}
		if config < 0 && (slices.Contains(c.Causes, CauseConfig) || c.StorePath == "") {
			config = i
		}
	}
	// owner is the culprit of a differing entry: by its store path, or,
	// outside the store, the culprit listing it (the image's own), else
	// the config's.
	owner := func(p string) (int, bool) {
		if sp := storepath.Of(p); sp != "" {
			i, ok := byPath[sp]
			return i, ok
		}
		if i, ok := byFile[p]; ok {
			return i, true
		}
		return config, config >= 0
	}
	all := make([]*diffItem, len(r.Culprits))
	item := func(i int) *diffItem {
		if all[i] == nil {
			all[i] = &diffItem{culprit: i, files: map[int]int{}, layers: map[int]bool{}}
		}
		return all[i]
	}
	layerOwner := map[int]int{}
	seenFile := map[string]bool{}
	for _, d := range r.Differences {
		if d.Kind != "entry" {
			continue
		}
		i, ok := owner(d.Path)
		if !ok {
			continue
		}
		if key := strconv.Itoa(d.Layer) + d.Path + d.Builder; !seenFile[key] {
			seenFile[key] = true
			item(i).files[d.Layer]++
		}
		if o, ok := layerOwner[d.Layer]; !ok || (!r.Culprits[o].Root() && r.Culprits[i].Root()) {
			layerOwner[d.Layer] = i
		}
	}
	for _, d := range r.Differences {
		switch {
		case d.Kind == "entry":
			if _, ok := owner(d.Path); !ok {
				rest = append(rest, d)
			}
		case (d.Kind == "layer" || d.Kind == "digest") && d.Layer >= 0:
			if o, ok := layerOwner[d.Layer]; ok {
				item(o).layers[d.Layer] = true
				continue
			}
			rest = append(rest, d)
		case d.Kind == "config" && diffIDFieldRE.MatchString(d.Field):
			n, _ := strconv.Atoi(diffIDFieldRE.FindStringSubmatch(d.Field)[1])
			if o, ok := layerOwner[n]; ok {
				item(o).layers[n] = true
				continue
			}
			rest = append(rest, d)
		case d.Kind == "config" && config >= 0:
			item(config).fields = append(item(config).fields, d.Field)
		case d.Kind == "digest":
			if !slices.Contains(digests, d.Field) {
				digests = append(digests, d.Field)
			}
		default:
			rest = append(rest, d)
		}
	}
	for i, it := range all {
		if it == nil {
			continue
		}
		c := r.Culprits[i]
		if j, ok := byPath[c.ConsequenceOf]; ok && c.ConsequenceOf != "" {
			item(j).subs = append(item(j).subs, it)
			continue
		}
		items = append(items, it)
	}
	return items, digests, rest
}

// describe says what of the differences an item explains, in one line.
func (it *diffItem) describe() string {
	var parts []string
	for _, l := range sortedIntKeys(it.files) {
		parts = append(parts, fmt.Sprintf("%s in layer %d", plural(it.files[l], "file", "files"), l))
	}
	if len(it.layers) > 0 {
		var ls []string
		for _, l := range sortedIntKeys(it.layers) {
			ls = append(ls, strconv.Itoa(l))
		}
		parts = append(parts, fmt.Sprintf("so the digest and rootfs entry of layer %s", strings.Join(ls, ", ")))
	}
	if len(it.fields) > 0 {
		fs := it.fields
		more := ""
		if len(fs) > 3 {
			fs, more = fs[:3], fmt.Sprintf(" and %d more", len(it.fields)-3)
		}
		parts = append(parts, "config "+strings.Join(fs, ", ")+more)
	}
	return strings.Join(parts, "; ")
}

func sortedIntKeys[V any](m map[int]V) []int {
	return slices.Sorted(maps.Keys(m))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
