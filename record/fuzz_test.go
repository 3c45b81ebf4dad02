package record_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/record"
)

// The parsers read what another builder's record holds: any bytes
// must give a value or an error, never a panic.

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"schema":"nixdock.dev/record/v1","drvPath":"/nix/store/x.drv","image":{"configDigest":"sha256:` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := record.Parse(data)
		if err == nil {
			if r.Check() != nil {
				t.Fatal("ParseRecord accepted a record that Check rejects")
			}
			out, err := r.Marshal()
			if err != nil {
				t.Fatalf("a parsed record does not marshal: %v", err)
			}
			// What nixdock writes, it reads back (strict keys included).
			if _, err := record.Parse(out); err != nil {
				t.Fatalf("a marshalled record does not parse: %v\n%s", err, out)
			}
		}
	})
}

// TestParseRecordStrict replays the record corpus: hello-record parses, and
// each bad-* record (a key twice in two cases, a key in the wrong case, an
// unknown or duplicate key, data after the object, no layers, an unknown
// compressor) is refused with an error that names what is wrong.
func TestParseRecordStrict(t *testing.T) {
	want := map[string]string{
		"bad-outpath-twice":   `"OutPath": keys are case-sensitive, write "outPath"`,
		"bad-key-case":        `"DrvPath": keys are case-sensitive, write "drvPath"`,
		"bad-nested-key-case": `"image.layers[0].DiffID": keys are case-sensitive`,
		"bad-unknown-key":     `unknown key "unknownField"`,
		"bad-duplicate-key":   `key "drvPath" appears twice`,
		"bad-trailing-data":   "data after the record",
		"bad-empty-layers":    "image.layers is empty",
		"bad-compressor":      `image.compressor.name "brotli"`,
		"bad-origin-how":      `origin.how "downloaded"`,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseRecord")
	if _, err := record.Parse(corpusBytes(t, filepath.Join(dir, "hello-record"))); err != nil {
		t.Fatalf("hello-record: %v", err)
	}
	for name, msg := range want {
		_, err := record.Parse(corpusBytes(t, filepath.Join(dir, name)))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: err = %v, want it to say %s", name, err, msg)
		}
	}
}

// corpusBytes reads the []byte value of a Go fuzz corpus file.
func corpusBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), "\n")
	q := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "[]byte(")), ")")
	s, err := strconv.Unquote(q)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}
