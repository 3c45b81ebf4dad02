package verify

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// The causes a culprit can have, in the order reports list them.
const (
	CauseTimestamp   = "timestamp"
	CauseRandom      = "random"
	CauseOrder       = "order"
	CauseBuildPath   = "build-path"
	CauseMode        = "mode"
	CauseOwner       = "owner"
	CauseContent     = "content"
	CauseConfig      = "config"
	CauseConsequence = "consequence"
)

var causeRank = map[string]int{
	CauseConsequence: 0, CauseConfig: 1, CauseTimestamp: 2, CauseRandom: 3, CauseOrder: 4,
	CauseBuildPath: 5, CauseMode: 6, CauseOwner: 7, CauseContent: 8,
}

func sortCauses(cs []string) {
	sort.Slice(cs, func(i, j int) bool {
		ri, rj := causeRank[cs[i]], causeRank[cs[j]]
		if ri != rj {
			return ri < rj
		}
		return cs[i] < cs[j]
	})
}

// fieldCauses maps what differs in a file to likely causes; content is
// inferred from the samples.
func fieldCauses(fd *fileDiff) ([]string, string) {
	set := map[string]bool{}
	evidence := ""
	note := func(s string) {
		if evidence == "" {
			evidence = s
		}
	}
	for _, f := range fd.Fields {
		switch {
		case f.Field == "mode":
			set[CauseMode] = true
			note(fmt.Sprintf("mode %s vs %s", f.A, f.B))
		case f.Field == "uid" || f.Field == "gid" || f.Field == "uname" || f.Field == "gname":
			set[CauseOwner] = true
			note(fmt.Sprintf("%s %s vs %s", f.Field, f.A, f.B))
		case f.Field == "mtime" || f.Field == "pax.atime" || f.Field == "pax.ctime":
			set[CauseTimestamp] = true
			note(fmt.Sprintf("%s %s vs %s", f.Field, f.A, f.B))
		case f.Field == "position":
			set[CauseOrder] = true
			note(fmt.Sprintf("archive position %s vs %s", f.A, f.B))
		case f.Field == "linkname":
			cs, ev := inferContent([]byte(f.A), []byte(f.B), true)
			addAll(set, cs)
			note("link target " + ev)
		case f.Field == "content":
			if fd.SampleA == nil && fd.SampleB == nil {
				set[CauseContent] = true
				continue
			}
			cs, ev := inferContent(fd.SampleA, fd.SampleB, fd.Whole)
			addAll(set, cs)
			if fd.Offset > 0 {
				ev = fmt.Sprintf("at byte %d: %s", fd.Offset, ev)
			}
			note(ev)
		case f.Field == "size":
			// Explained by the content.
		default: // presence, type, xattrs and other PAX records
			set[CauseContent] = true
			note(fmt.Sprintf("%s %s vs %s", f.Field, f.A, f.B))
		}
	}
	causes := make([]string, 0, len(set))
	for c := range set {
		causes = append(causes, c)
	}
	sortCauses(causes)
	return causes, evidence
}

func addAll(set map[string]bool, cs []string) {
	for _, c := range cs {
		set[c] = true
	}
}

// inferContent names the likeliest cause of two contents differing, with
// a short excerpt of the difference. whole says the samples are the whole
// files (needed to recognise a reordering).
func inferContent(a, b []byte, whole bool) ([]string, string) {
	return inferContentDepth(a, b, whole, 0)
}

// inferContentDepth looks inside one container (gzip, zip) at most: depth
// counts the containers opened, so a gzip quine ends.
func inferContentDepth(a, b []byte, whole bool, depth int) ([]string, string) {
	if whole && sameLinesReordered(a, b) {
		return []string{CauseOrder}, "the same lines in a different order"
	}
	if depth == 0 {
		if cs, ev, ok := inferFormat(a, b, whole, depth); ok {
			return cs, ev
		}
	} else if isBinary(a) || isBinary(b) {
		return inferBinary(a, b)
	}
	set := map[string]bool{}
	best, evidence := "", ""
	for _, r := range differingRegions(a, b) {
		c := classify(r)
		set[c] = true
		if best == "" || causeRank[c] < causeRank[best] {
			best, evidence = c, r.excerpt()
		}
	}
	if best == "" {
		return []string{CauseContent}, "contents differ"
	}
	if len(set) > 1 {
		delete(set, CauseContent) // the other causes explain the rest
	}
	var causes []string
	for c := range set {
		causes = append(causes, c)
	}
	sortCauses(causes)
	return causes, evidence
}

// region is one differing span: the differing tokens (expanded to word
// boundaries) and the lines around them.
type region struct {
	tokA, tokB   []byte
	lineA, lineB []byte
}

func (r region) excerpt() string {
	return fmt.Sprintf("%s vs %s", quoteShort(r.lineA), quoteShort(r.lineB))
}

func quoteShort(b []byte) string {
	const max = 80
	s := string(b)
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%d binary bytes", len(b))
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// sameLinesReordered reports whether a and b hold the same lines in a
// different order (a directory listed unsorted, a map iterated randomly).
func sameLinesReordered(a, b []byte) bool {
	if bytes.Equal(a, b) || len(a) != len(b) {
		return false
	}
	la, lb := splitLines(a), splitLines(b)
	if len(la) < 2 || len(la) != len(lb) {
		return false
	}
	sa, sb := append([]string(nil), la...), append([]string(nil), lb...)
	sort.Strings(sa)
	sort.Strings(sb)
	for i := range sa {
		if sa[i] != sb[i] {
			return false
		}
	}
	return true
}

func splitLines(b []byte) []string {
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// differingRegions finds the differing spans: line by line when both have
// the same number of lines, else one span between the common prefix and
// suffix. At most 16 spans are looked at.
func differingRegions(a, b []byte) []region {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	var out []region
	if len(la) == len(lb) && len(la) > 1 {
		for i := range la {
			if !bytes.Equal(la[i], lb[i]) {
				out = append(out, regionOf(la[i], lb[i]))
				if len(out) == 16 {
					break
				}
			}
		}
		return out
	}
	if bytes.Equal(a, b) {
		return nil
	}
	return []region{regionOf(a, b)}
}

// regionOf cuts the common prefix and suffix and widens the rest to whole
// tokens, so that "…12:34:56" is seen whole, not as "56".
func regionOf(a, b []byte) region {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	start := p
	for start > 0 && isTokenByte(a[start-1]) {
		start--
	}
	endA, endB := len(a)-s, len(b)-s
	for endA < len(a) && isTokenByte(a[endA]) {
		endA++
		endB++
	}
	return region{
		tokA: a[start:endA], tokB: b[start:endB],
		lineA: lineAround(a, start, endA), lineB: lineAround(b, start, endB),
	}
}

func lineAround(b []byte, start, end int) []byte {
	i := bytes.LastIndexByte(b[:start], '\n') + 1
	j := bytes.IndexByte(b[end:], '\n')
	if j < 0 {
		j = len(b)
	} else {
		j += end
	}
	if j-i > 200 {
		return b[start:min(end, start+200)]
	}
	return b[i:j]
}

func isTokenByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune("\"'`<>()[]{},;=", rune(c))
}

var (
	buildPathRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])(/build/|/tmp/nix-build-|/private/tmp/nix-build-|/tmp/tmp\.|/nix/var/nix/builds/)`)
	dateRE      = regexp.MustCompile(`\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}:\d{2}|\d{4}\d{2}\d{2}T\d{6}|(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d`)
	// epochRE is seconds since the epoch (2001-2286), or milli-, micro- or
	// nanoseconds (date +%s%N).
	epochRE = regexp.MustCompile(`(^|[^0-9])1[0-9]{9}([0-9]{3}){0,3}([^0-9]|$)`)
	// hexBytesRE is bytes printed as hex groups, as od -x or xxd print them.
	hexBytesRE = regexp.MustCompile(`^[0-9a-fA-F]{2,8}([ \t]+[0-9a-fA-F]{2,8})+$`)
	numberRE   = regexp.MustCompile(`^[0-9]+$`)
	hexRE      = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	base64RE   = regexp.MustCompile(`^[A-Za-z0-9+/_-]+=*$`)
)

// classify names the cause that best explains one differing region.
func classify(r region) string {
	switch {
	case buildPathRE.Match(r.tokA) || buildPathRE.Match(r.tokB):
		return CauseBuildPath
	case looksLikeTime(r.tokA) && looksLikeTime(r.tokB):
		return CauseTimestamp
	case looksRandom(r.tokA) && looksRandom(r.tokB):
		return CauseRandom
	case randomSuffix(r.tokA, r.tokB):
		return CauseRandom
	case randomHexBytes(r.tokA) && randomHexBytes(r.tokB):
		return CauseRandom
	case randomNumbers(r.tokA, r.tokB):
		return CauseRandom
	}
	return CauseContent
}

func looksLikeTime(tok []byte) bool {
	return dateRE.Match(tok) || epochRE.Match(tok)
}

// looksRandom reports whether tok is a long hex or base64 string with high
// entropy: a seed, a nonce, a random identifier or a hash of one.
func looksRandom(tok []byte) bool {
	t := bytes.TrimRight(tok, "=")
	if len(t) < 8 {
		return false
	}
	if !hexRE.Match(t) && !base64RE.Match(t) {
		return false
	}
	digits := 0
	for _, c := range t {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits == len(t) {
		return false // a number, more likely a counter or a size
	}
	return entropy(t) >= 2.5
}

// randomSuffix catches mktemp-style names (prefix.XXXXXXXX) that differ
// only in their random part.
func randomSuffix(a, b []byte) bool {
	i := bytes.LastIndexAny(a, "._-")
	j := bytes.LastIndexAny(b, "._-")
	if i < 0 || i != j || !bytes.Equal(a[:i], b[:j]) {
		return false
	}
	return looksRandom(a[i+1:]) && looksRandom(b[j+1:])
}

func entropy(b []byte) float64 {
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	h := 0.0
	n := float64(len(b))
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// randomHexBytes catches random bytes printed as hex groups (od -An -tx1
// /dev/urandom prints "ca 64 1b 13 …"), which no single token shows.
func randomHexBytes(tok []byte) bool {
	tok = bytes.TrimSpace(tok)
	if !hexBytesRE.Match(tok) {
		return false
	}
	digits := bytes.Join(bytes.Fields(tok), nil)
	return len(digits) >= 8 && entropy(digits) >= 2.5
}

// randomNumbers catches random numbers printed in decimal (od -tu4
// /dev/urandom, $RANDOM$RANDOM): two numbers of six digits or more that
// differ from their first digit or in length, unlike a counter or a size
// that changed a little.
func randomNumbers(a, b []byte) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if !numberRE.Match(a) || !numberRE.Match(b) || len(a) < 6 || len(b) < 6 {
		return false
	}
	return len(a) != len(b) || a[0] != b[0]
}
