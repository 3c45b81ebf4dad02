package verify

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"time"
)

// configDiff is the outcome of comparing two image configs.
type configDiff struct {
	diffs []Difference
	// omitted counts differences past maxConfigDiffs, left out of diffs.
	omitted int
	// own is true when something other than rootfs.diff_ids differs: the
	// diff_ids follow from the layers and are explained there.
	own bool
	// created is true when a created date (the image's or a history
	// entry's) is a different instant on both sides.
	created bool
	// sameInstant is true when a created date is the same instant written
	// two ways (1970-01-01T00:00:01Z, 1970-01-01T00:00:01+00:00).
	sameInstant bool
	// history is true when the history differs in length (an entry on one
	// side only): a created date that follows is explained by it.
	history bool
}

// createdNote explains a differing created date.
const createdNote = `created differs: an image built with created = "now" (dockerTools) reads the clock; ` +
	`use a fixed date or leave created at its default (1970-01-01T00:00:01Z)`

// sameInstant reports whether two dates are the same moment: RFC 3339
// allows Z or +00:00, and converters (skopeo to an OCI layout, Python's
// isoformat) write one or the other.
func sameInstant(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && errB == nil && ta.Equal(tb)
}

// configEvidence explains an own config difference: a clock date, a date
// written two ways, a history that differs, or the first field.
func configEvidence(cd *configDiff) string {
	switch {
	case cd.created:
		return createdNote
	case cd.history:
		return historyNote(cd.diffs)
	case cd.sameInstant && onlyDates(cd.diffs):
		d := firstOwnConfigDiff(cd.diffs)
		return fmt.Sprintf("config %s: the same instant written two ways (%q vs %q); the dates agree, the config's bytes do not", d.Field, d.A, d.B)
	}
	d := firstOwnConfigDiff(cd.diffs)
	return "config " + d.Field + ": " + quoteShort([]byte(d.A)) + " vs " + quoteShort([]byte(d.B))
}

func onlyDates(ds []Difference) bool {
	for _, d := range ds {
		if d.Field != "created" && !(strings.HasPrefix(d.Field, "history[") && strings.HasSuffix(d.Field, ".created")) &&
			!strings.HasPrefix(d.Field, "rootfs.diff_ids") {
			return false
		}
	}
	return true
}

// historyNote says how the history differs: its length, or the first entry
// field that is not a date.
func historyNote(ds []Difference) string {
	for _, d := range ds {
		if strings.HasPrefix(d.Field, "history") && (d.A == "(absent)" || d.B == "(absent)") {
			entry, _, _ := strings.Cut(d.Field, "]")
			side := "B"
			if d.A == "(absent)" {
				side = "A"
			}
			return fmt.Sprintf("the history differs: image %s has no %s]; created follows the history, the clock is not the cause", side, entry)
		}
	}
	return "the history differs"
}

// diffConfigs compares every field of two raw image configs. A's fields
// are held as 64-bit hashes of key and value (seeded at random, so no
// config can be made to collide); B's are streamed against them, and A is
// read again for the values of the differences kept. A config of millions
// of labels so costs a map of hashes, not two parsed trees and two maps of
// strings.
func diffConfigs(rawA, rawB []byte) (*configDiff, error) {
	seed := maphash.MakeSeed()
	hash := func(s string) uint64 { return maphash.String(seed, s) }
	fa := map[uint64]uint64{}
	datesA := map[string]string{} // A's dates, for the flags below
	err := walkJSON(rawA, func(k, v string) {
		fa[hash(k)] = hash(v)
		if isConfigDate(k) {
			datesA[k] = v
		}
	})
	if err != nil {
		return nil, fmt.Errorf("image A config: %w", err)
	}
	cd := &configDiff{}
	topCreated := false
	kept := &configHeap{}
	// kept holds the first maxConfigDiffs differences in natural order,
	// whatever their number; their A values are filled in afterwards.
	consider := func(k, va string, oka bool, vb string, okb bool) {
		if !oka {
			va = "(absent)"
		}
		if !okb {
			vb = "(absent)"
		}
		kept.offer(Difference{Kind: "config", Layer: -1, Field: k, A: va, B: vb})
		if !strings.HasPrefix(k, "rootfs.diff_ids") {
			cd.own = true
		}
		isDate := isConfigDate(k)
		switch {
		case isDate && oka && okb && sameInstant(datesA[k], vb):
			cd.sameInstant = true
		case k == "created" && oka && okb:
			topCreated = true
		case isDate && oka && okb:
			cd.created = true // an entry both have, dated differently
		case strings.HasPrefix(k, "history") && (!oka || !okb):
			cd.history = true
		}
	}
	// A key that B repeats meets A's value once; its repetition counts as
	// a field A lacks.
	err = walkJSON(rawB, func(k, vb string) {
		hk := hash(k)
		hv, oka := fa[hk]
		if oka {
			delete(fa, hk)
			if hv == hash(vb) {
				return
			}
		}
		consider(k, "", oka, vb, true) // A's value is filled in below
	})
	if err != nil {
		return nil, fmt.Errorf("image B config: %w", err)
	}
	// Read A again: the fields B lacks, and the A values of those kept.
	needA := map[string]bool{}
	for _, d := range kept.ds {
		if d.A == "" { // the placeholder: B's value differs from A's
			needA[d.Field] = true
		}
	}
	valA := map[string]string{}
	walkJSON(rawA, func(k, va string) {
		if _, lacking := fa[hash(k)]; lacking {
			delete(fa, hash(k))
			consider(k, va, true, "", false)
		} else if needA[k] {
			valA[k] = va
		}
	})
	for i := range kept.ds {
		if d := &kept.ds[i]; needA[d.Field] && d.A == "" {
			d.A = valA[d.Field]
		}
	}
	cd.diffs, cd.omitted = kept.ds, kept.dropped
	// The image's created follows its last history entry (dockerTools,
	// nix2container): with entries added or removed and no common entry
	// dated differently, the history is the cause, not the clock.
	cd.created = cd.created || topCreated && !cd.history
	sortConfigDiffs(cd.diffs)
	return cd, nil
}

// isConfigDate says whether config field k is a date: the image's or a
// history entry's created.
func isConfigDate(k string) bool {
	return k == "created" || strings.HasPrefix(k, "history[") && strings.HasSuffix(k, ".created")
}

// sortConfigDiffs orders config fields naturally (Env[2] before Env[10]).
func sortConfigDiffs(ds []Difference) {
	sort.SliceStable(ds, func(i, j int) bool { return naturalLess(ds[i].Field, ds[j].Field) })
}

// naturalLess compares strings with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// maxJSONDepth is encoding/json's own nesting limit.
const maxJSONDepth = 10000

// walkJSON calls leaf for every leaf of the JSON document in raw, in
// document order, without building the document: the leaf's path, such as
// config.Env[0] or rootfs.diff_ids[3], and its value as compact JSON
// (strings unquoted). Empty objects and arrays are leaves too.
func walkJSON(raw []byte, leaf func(path, value string)) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var walk func(prefix string, depth int) error
	walk = func(prefix string, depth int) error {
		if depth > maxJSONDepth {
			return fmt.Errorf("reading config JSON: nested more than %d deep", maxJSONDepth)
		}
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("reading config JSON: %w", err)
		}
		switch t := tok.(type) {
		case json.Delim:
			n := 0
			for ; dec.More(); n++ {
				p := fmt.Sprintf("%s[%d]", prefix, n)
				if t == '{' {
					kt, err := dec.Token()
					if err != nil {
						return fmt.Errorf("reading config JSON: %w", err)
					}
					p = kt.(string)
					if prefix != "" {
						p = prefix + "." + p
					}
				}
				if err := walk(p, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				return fmt.Errorf("reading config JSON: %w", err)
			}
			if n == 0 && t == '{' {
				leaf(prefix, "{}")
			} else if n == 0 {
				leaf(prefix, "[]")
			}
		case string:
			leaf(prefix, t)
		case nil:
			leaf(prefix, "null")
		case json.Number:
			leaf(prefix, t.String())
		case bool:
			leaf(prefix, strconv.FormatBool(t))
		}
		return nil
	}
	return walk("", 0)
}

// maxConfigDiffs bounds the config differences a diff keeps; the rest are
// counted (Report.Truncated).
var maxConfigDiffs = 10000

// configHeap keeps the maxConfigDiffs first differences in natural order of
// their fields: a max-heap, whose top is the last kept.
type configHeap struct {
	ds      []Difference
	dropped int
}

func (h *configHeap) Len() int           { return len(h.ds) }
func (h *configHeap) Less(i, j int) bool { return naturalLess(h.ds[j].Field, h.ds[i].Field) }
func (h *configHeap) Swap(i, j int)      { h.ds[i], h.ds[j] = h.ds[j], h.ds[i] }
func (h *configHeap) Push(x any)         { h.ds = append(h.ds, x.(Difference)) }
func (h *configHeap) Pop() any {
	d := h.ds[len(h.ds)-1]
	h.ds = h.ds[:len(h.ds)-1]
	return d
}

func (h *configHeap) offer(d Difference) {
	switch {
	case len(h.ds) < maxConfigDiffs:
		heap.Push(h, d)
	case naturalLess(d.Field, h.ds[0].Field):
		h.ds[0] = d
		heap.Fix(h, 0)
		h.dropped++
	default:
		h.dropped++
	}
}
