package dockertools

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Names are the fixtures, as the README's table names them (without
// .tar.zst).
var Names = []string{"good", "now", "trapsEnvironment", "tzcopy3", "odd-A", "odd-B", "causes-A", "causes-B"}

// Dir is testdata/dockertools.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "dockertools")
}

// patched are the fixtures stored as deltas of good.tar.
var patched = map[string]bool{"now": true, "trapsEnvironment": true, "tzcopy3": true}

// maxWindow bounds the decoder: the deltas were made with --long=27.
const maxWindow = 1 << 28

// Path returns a file holding fixture name: the original .tar.zst, or for
// a fixture stored as a delta, the original archive decompressed (.tar) in
// a directory removed after the test.
func Path(t testing.TB, name string) string {
	t.Helper()
	sums := readSums(t)
	if !patched[name] {
		p := filepath.Join(Dir(), name+".tar.zst")
		checkSum(t, p, mustRead(t, p), sums[name+".tar.zst"])
		return p
	}
	base := decompress(t, mustRead(t, filepath.Join(Dir(), "good.tar.zst")), nil)
	checkSum(t, "good.tar", base, sums["good.tar"])
	data := decompress(t, mustRead(t, filepath.Join(Dir(), name+".tar.patch.zst")), base)
	out := filepath.Join(t.TempDir(), name+".tar")
	checkSum(t, out, data, sums[name+".tar"])
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func decompress(t testing.TB, data, dict []byte) []byte {
	t.Helper()
	opts := []zstd.DOption{zstd.WithDecoderMaxWindow(maxWindow), zstd.WithDecoderMaxMemory(1 << 30), zstd.WithDecoderConcurrency(1)}
	if dict != nil {
		// zstd --patch-from uses the reference as a raw-content dictionary.
		opts = append(opts, zstd.WithDecoderDictRaw(0, dict))
	}
	dec, err := zstd.NewReader(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	out, err := dec.DecodeAll(data, nil)
	if err != nil {
		t.Fatalf("decompressing a dockerTools fixture: %v", err)
	}
	return out
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func checkSum(t testing.TB, name string, data []byte, want string) {
	t.Helper()
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); want == "" || got != want {
		t.Fatalf("%s: sha256 %s, want %q (SHA256SUMS): the fixture is not the original", name, got, want)
	}
}

func readSums(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(), "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if ok {
			sums[name] = sum
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}
