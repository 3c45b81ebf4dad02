package verify

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// maxInner bounds what is decompressed of a gzip file or zip entry to look
// inside it: enough for the evidence, and a bomb costs no more.
const maxInner = 1 << 20

// inferFormat recognises the containers whose own headers carry a clock
// date (gzip without -n, zip entry times) and binaries (ELF strings such as
// __DATE__ and __TIME__), and explains what differs inside them. ok is
// false when neither sample is one of these.
func inferFormat(a, b []byte, whole bool, depth int) (causes []string, evidence string, ok bool) {
	switch {
	case isGzip(a) && isGzip(b):
		return inferGzip(a, b, whole, depth)
	case bytes.HasPrefix(a, []byte("PK\x03\x04")) && bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return inferZip(a, b, whole, depth)
	case isBinary(a) || isBinary(b):
		cs, ev := inferBinary(a, b)
		return cs, ev, true
	}
	return nil, "", false
}

func isGzip(b []byte) bool { return len(b) >= 10 && b[0] == 0x1f && b[1] == 0x8b }

func isBinary(b []byte) bool { return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) }

// causeSet collects causes and the evidence of each, in the order found.
type causeSet struct {
	set      map[string]bool
	evidence []string
}

func (s *causeSet) add(cs []string, ev string) {
	if s.set == nil {
		s.set = map[string]bool{}
	}
	for _, c := range cs {
		s.set[c] = true
	}
	if ev != "" && len(s.evidence) < 2 {
		s.evidence = append(s.evidence, ev)
	}
}

func (s *causeSet) result() ([]string, string) {
	if len(s.set) > 1 {
		delete(s.set, CauseContent) // the other causes explain the rest
	}
	var out []string
	for c := range s.set {
		out = append(out, c)
	}
	sortCauses(out)
	return out, strings.Join(s.evidence, "; ")
}

// inferGzip: the header's mtime (bytes 4-7, set unless gzip -n), then, for
// whole files, the decompressed contents.
func inferGzip(a, b []byte, whole bool, depth int) ([]string, string, bool) {
	var s causeSet
	ma, mb := binary.LittleEndian.Uint32(a[4:8]), binary.LittleEndian.Uint32(b[4:8])
	if ma != mb {
		s.add([]string{CauseTimestamp}, fmt.Sprintf("gzip header mtime %s vs %s (gzip without -n)", unixDate(ma), unixDate(mb)))
	}
	if whole {
		da, errA := gunzip(a)
		db, errB := gunzip(b)
		switch {
		case errA != nil || errB != nil:
			if ma == mb {
				s.add([]string{CauseContent}, "gzip data differs")
			}
		case !bytes.Equal(da, db):
			cs, ev := inferContentDepth(da, db, true, depth+1)
			s.add(cs, "inside: "+ev)
		case ma == mb:
			s.add([]string{CauseContent}, "the same data compressed differently (gzip level or version)")
		}
	} else if ma == mb {
		return nil, "", false
	}
	cs, ev := s.result()
	return cs, ev, true
}

func unixDate(s uint32) string {
	return time.Unix(int64(s), 0).UTC().Format(time.RFC3339)
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, maxInner))
}

// inferZip compares the entries of two whole zip (jar) files: their times
// (a zip stores each entry's DOS date and time) and contents.
func inferZip(a, b []byte, whole bool, depth int) ([]string, string, bool) {
	if !whole {
		// The first local header's time and date are bytes 10-13.
		if i := firstDiff(a, b); i >= 10 && i < 14 {
			return []string{CauseTimestamp}, "zip entry time (the first local header)", true
		}
		return nil, "", false
	}
	za, errA := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	zb, errB := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if errA != nil || errB != nil {
		return nil, "", false
	}
	inB := map[string]*zip.File{}
	for _, f := range zb.File {
		inB[f.Name] = f
	}
	var s causeSet
	for _, fa := range za.File {
		fb, ok := inB[fa.Name]
		if !ok {
			s.add([]string{CauseContent}, fmt.Sprintf("zip entry %q only in one", fa.Name))
			continue
		}
		if !fa.Modified.Equal(fb.Modified) {
			s.add([]string{CauseTimestamp}, fmt.Sprintf("zip entry %q time %s vs %s",
				fa.Name, fa.Modified.Format(time.DateTime), fb.Modified.Format(time.DateTime)))
		}
		if fa.CRC32 != fb.CRC32 {
			da, errA := readZipEntry(fa)
			db, errB := readZipEntry(fb)
			if errA != nil || errB != nil || depth > 0 {
				s.add([]string{CauseContent}, fmt.Sprintf("zip entry %q content differs", fa.Name))
				continue
			}
			cs, ev := inferContentDepth(da, db, true, depth+1)
			s.add(cs, fmt.Sprintf("zip entry %q: %s", fa.Name, ev))
		}
	}
	if s.set == nil {
		return nil, "", false
	}
	cs, ev := s.result()
	return cs, ev, true
}

func readZipEntry(f *zip.File) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, maxInner))
}

// run is a printable string in a binary, as strings(1) finds them.
type run struct {
	off int
	s   []byte
}

func printableRuns(b []byte) []run {
	var out []run
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] >= 0x20 && b[i] < 0x7f {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 4 {
			out = append(out, run{start, b[start:i]})
		}
		start = -1
	}
	return out
}

var (
	cTimeRE = regexp.MustCompile(`^\d\d:\d\d:\d\d$`)
	cDateRE = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-3]\d \d{4}$`)
)

// inferBinary compares the printable strings of two binaries (as
// strings(1) would show them): the differing strings are the
// evidence, such as the __DATE__ and __TIME__ a C compiler embeds. Bytes
// that differ outside strings (a build id, offsets) follow from them.
func inferBinary(a, b []byte) ([]string, string) {
	ra, rb := printableRuns(a), printableRuns(b)
	// Paired by offset; when the sizes differ (a longer string moved the
	// rest) and the strings are as many, in order.
	atB := map[int][]byte{}
	byIndex := len(a) != len(b) && len(ra) == len(rb)
	for i, r := range rb {
		if byIndex {
			atB[ra[i].off] = r.s
		} else {
			atB[r.off] = r.s
		}
	}
	var s causeSet
	var shown []string
	for _, r := range ra {
		sb, ok := atB[r.off]
		if !ok || bytes.Equal(r.s, sb) {
			continue
		}
		reg := regionOf(r.s, sb)
		reg.lineA, reg.lineB = r.s, sb
		c := classify(reg)
		s.add([]string{c}, "")
		if len(shown) < 2 {
			shown = append(shown, reg.excerpt()+cMacro(r.s, sb, c))
		}
	}
	if s.set == nil {
		i := firstDiff(a, b)
		return []string{CauseContent}, fmt.Sprintf("binary contents differ from byte %d, in no printable string", i)
	}
	cs, _ := s.result()
	what := "string"
	if bytes.HasPrefix(a, []byte("\x7fELF")) {
		what = "ELF string"
	}
	return cs, what + " " + strings.Join(shown, ", ")
}

// cMacro names the C macro that a compiler expands to a date string.
func cMacro(a, b []byte, cause string) string {
	switch {
	case cause != CauseTimestamp:
		return ""
	case cTimeRE.Match(a) && cTimeRE.Match(b):
		return " (__TIME__)"
	case cDateRE.Match(a) && cDateRE.Match(b):
		return " (__DATE__)"
	}
	return ""
}
