package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// configDiff is the outcome of comparing two image configs.
type configDiff struct {
	diffs []Difference
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

// diffConfigs compares every field of two raw image configs.
func diffConfigs(rawA, rawB []byte) (*configDiff, error) {
	fa, err := flattenJSON(rawA)
	if err != nil {
		return nil, fmt.Errorf("image A config: %w", err)
	}
	fb, err := flattenJSON(rawB)
	if err != nil {
		return nil, fmt.Errorf("image B config: %w", err)
	}
	cd := &configDiff{}
	topCreated := false
	for _, k := range unionKeys(fa, fb) {
		va, oka := fa[k]
		vb, okb := fb[k]
		if oka && okb && va == vb {
			continue
		}
		if !oka {
			va = "(absent)"
		}
		if !okb {
			vb = "(absent)"
		}
		cd.diffs = append(cd.diffs, Difference{Kind: "config", Layer: -1, Field: k, A: va, B: vb})
		if !strings.HasPrefix(k, "rootfs.diff_ids") {
			cd.own = true
		}
		isDate := k == "created" || strings.HasPrefix(k, "history[") && strings.HasSuffix(k, ".created")
		switch {
		case isDate && oka && okb && sameInstant(va, vb):
			cd.sameInstant = true
		case k == "created" && oka && okb:
			topCreated = true
		case isDate && oka && okb:
			cd.created = true // an entry both have, dated differently
		case strings.HasPrefix(k, "history") && (!oka || !okb):
			cd.history = true
		}
	}
	// The image's created follows its last history entry (dockerTools,
	// nix2container): with entries added or removed and no common entry
	// dated differently, the history is the cause, not the clock.
	cd.created = cd.created || topCreated && !cd.history
	sortConfigDiffs(cd.diffs)
	return cd, nil
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

// flattenJSON maps every leaf of a JSON document to its path, such as
// config.Env[0] or rootfs.diff_ids[3], with the leaf as compact JSON
// (strings unquoted). Empty objects and arrays are leaves too.
func flattenJSON(raw []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("reading config JSON: %w", err)
	}
	out := map[string]string{}
	flatten("", v, out)
	return out, nil
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[prefix] = "{}"
		}
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		if len(x) == 0 {
			out[prefix] = "[]"
		}
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	case string:
		out[prefix] = x
	case nil:
		out[prefix] = "null"
	default:
		out[prefix] = fmt.Sprint(x)
	}
}
