package build_test

import (
	"testing"

	"github.com/nixdock/nixdock-action/build"
)

// The parsers read what Nix (or another builder's record) printed: any bytes
// must give a value or an error, never a panic.

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"schema":"nixdock.dev/record/v1","drvPath":"/nix/store/x.drv","image":{"configDigest":"sha256:` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := build.ParseRecord(data)
		if err == nil {
			if r.Check() != nil {
				t.Fatal("ParseRecord accepted a record that Check rejects")
			}
			if _, err := r.Marshal(); err != nil {
				t.Fatalf("a parsed record does not marshal: %v", err)
			}
		}
	})
}

func FuzzParsePathInfo(f *testing.F) {
	for _, name := range []string{"path-info-2.8.json", "path-info-2.19.json", "path-info-2.33-v2.json", "path-info-invalid.json"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		infos, err := build.ParsePathInfo(data)
		if err != nil {
			return
		}
		for i := 1; i < len(infos); i++ {
			if infos[i-1].Path > infos[i].Path {
				t.Fatalf("paths not sorted: %s before %s", infos[i-1].Path, infos[i].Path)
			}
		}
	})
}

func FuzzParseDerivations(f *testing.F) {
	for _, name := range []string{"show-derivation-2.8.json", "derivation-show-2.18.json", "derivation-show-2.32.json", "derivation-show-2.34.json"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = build.ParseDerivations(data)
	})
}
