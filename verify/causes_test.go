package verify

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"
)

func gz(t *testing.T, body string, mtime int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if mtime > 0 {
		zw.ModTime = time.Unix(mtime, 0)
	}
	zw.Write([]byte(body))
	zw.Close()
	return buf.Bytes()
}

// Each kind of content is classified by the part that differs, and
// numbers that changed a little (a counter, a size) are not random.
func TestInferContentKinds(t *testing.T) {
	elf := func(tm string) []byte {
		return []byte("\x7fELF\x02\x01\x01\x00\x00\x00" + strings.Repeat("\x00", 40) + "Dec  6 2026\x00" + tm + "\x00\x01\x02")
	}
	for _, c := range []struct {
		name      string
		a, b      []byte
		cause, ev string
	}{
		{"od decimal", []byte(" 1213129774\n"), []byte("  551499355\n"), CauseRandom, "1213129774"},
		{"counter", []byte("build 1000000\n"), []byte("build 1000001\n"), CauseContent, ""},
		{"od hex", []byte(" ca 64 1b 13 16 dc 39 05\n"), []byte(" 4b 35 64 75 da 0e 2e 30\n"), CauseRandom, "ca 64"},
		{"date +%s%N", []byte("1796544833069481690\n"), []byte("1796544852151166067\n"), CauseTimestamp, ""},
		{"gzip mtime", gz(t, "same text", 1796544833), gz(t, "same text", 1796544852), CauseTimestamp, "gzip header mtime 2026-12-06T"},
		{"gzip -n, random inside", gz(t, "seed 9e11bf73f19245b9d32fe30a8459734e", 0), gz(t, "seed f1f72a8b1edf7a8ee5a254f99ee1d79e", 0), CauseRandom, "inside:"},
		{"ELF __TIME__", elf("08:13:53"), elf("08:14:12"), CauseTimestamp, `ELF string "08:13:53" vs "08:14:12" (__TIME__)`},
		{"binary, no string", []byte("\x00\x01\x02\x03"), []byte("\x00\x01\x09\x03"), CauseContent, "from byte 2"},
		{"binary, string longer", []byte("\x00\x01built in /build/cc.abcdefgh\x00tail\x00"), []byte("\x00\x01built in /build/cc.abcdefghij\x00tail\x00"), CauseBuildPath, "/build/cc.abcdefgh"},
	} {
		cs, ev := inferContent(c.a, c.b, true)
		if strings.Join(cs, ",") != c.cause || !strings.Contains(ev, c.ev) {
			t.Errorf("%s: %v %q, want [%s] with %q", c.name, cs, ev, c.cause, c.ev)
		}
	}
}

// A gzip whose content is itself gzip is opened once, not without end.
func TestInferGzipDepth(t *testing.T) {
	a := gz(t, string(gz(t, "x1", 100)), 0)
	b := gz(t, string(gz(t, "x2", 200)), 0)
	cs, _ := inferContent(a, b, true)
	if len(cs) == 0 {
		t.Fatal("no cause")
	}
}

// Dates are compared as instants: Z and +00:00 are one moment; a created
// date that follows a history entry added is the history, not the clock.
func TestConfigDatesAsInstants(t *testing.T) {
	cd, err := diffConfigs([]byte(`{"created":"1970-01-01T00:00:01Z","history":[{"created":"1970-01-01T00:00:01Z"}]}`),
		[]byte(`{"created":"1970-01-01T00:00:01+00:00","history":[{"created":"1970-01-01T00:00:01+00:00"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if cd.created || !cd.sameInstant || !strings.Contains(configEvidence(cd), "the same instant") {
		t.Errorf("Z vs +00:00: created %v, evidence %q; want the same instant", cd.created, configEvidence(cd))
	}
	cd, err = diffConfigs([]byte(`{"created":"2024-01-01T00:00:00Z","history":[{"created":"2024-01-01T00:00:00Z"}]}`),
		[]byte(`{"created":"2024-02-01T00:00:00Z","history":[{"created":"2024-01-01T00:00:00Z"},{"created":"2024-02-01T00:00:00Z"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev := configEvidence(cd); cd.created || !strings.Contains(ev, "history differs") || !strings.Contains(ev, "history[1]") {
		t.Errorf("history entry added: created %v, evidence %q; want the history", cd.created, ev)
	}
	cd, _ = diffConfigs([]byte(`{"created":"1970-01-01T00:00:01Z"}`), []byte(`{"created":"2026-12-06T08:13:39.948503+00:00"}`))
	if !cd.created || configEvidence(cd) != createdNote {
		t.Errorf("clock date: created %v, evidence %q", cd.created, configEvidence(cd))
	}
}
