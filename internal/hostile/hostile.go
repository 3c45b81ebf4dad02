package hostile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// SparseFile returns the 512-byte GNU tar header (type 'S', old GNU form)
// of a sparse file named name whose logical size is size and which is all
// hole: no data blocks follow it, yet archive/tar reads size zero bytes.
func SparseFile(name string, size int64) []byte {
	h := make([]byte, 512)
	copy(h[0:100], name)
	octal(h[100:108], 0o644)
	octal(h[108:116], 0)
	octal(h[116:124], 0)
	octal(h[124:136], 0) // bytes stored: none
	octal(h[136:148], 1)
	h[156] = 'S'
	copy(h[257:265], "ustar  \x00")
	// One sparse entry: no data at the end of the file.
	octal(h[386:398], size)
	octal(h[398:410], 0)
	octal(h[483:495], size) // realsize
	checksum(h)
	return h
}

// SparsePAX returns the blocks of a sparse file in the PAX form (GNU
// sparse 1.0, as GNU tar --format=posix writes it): a regular file whose
// PAX records declare a logical size of size bytes, all hole. archive/tar
// reports it as a regular file (type '0').
func SparsePAX(name string, size int64) []byte {
	var recs bytes.Buffer
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", name}, {"GNU.sparse.realsize", strconv.FormatInt(size, 10)}} {
		recs.WriteString(paxRecord(kv[0], kv[1]))
	}
	var out bytes.Buffer
	out.Write(ustarHeader("PaxHeaders/"+name, 'x', int64(recs.Len())))
	out.Write(pad(recs.Bytes()))
	// The data: the sparse map (one entry, no data at the end), padded.
	sparseMap := pad([]byte("1\n" + strconv.FormatInt(size, 10) + "\n0\n"))
	out.Write(ustarHeader("GNUSparseFile.0/"+name, '0', int64(len(sparseMap))))
	out.Write(sparseMap)
	return out.Bytes()
}

// paxRecord is "LEN key=value\n", LEN counting itself.
func paxRecord(k, v string) string {
	body := " " + k + "=" + v + "\n"
	n := len(body) + 1
	for len(strconv.Itoa(n))+len(body) != n {
		n++
	}
	return strconv.Itoa(n) + body
}

func ustarHeader(name string, typ byte, size int64) []byte {
	h := make([]byte, 512)
	copy(h[0:100], name)
	octal(h[100:108], 0o644)
	octal(h[108:116], 0)
	octal(h[116:124], 0)
	octal(h[124:136], size)
	octal(h[136:148], 1)
	h[156] = typ
	copy(h[257:265], "ustar\x0000")
	checksum(h)
	return h
}

func pad(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// SparseLayer is a tar holding one all-hole sparse file of size bytes
// under name, in the old GNU form, or in the PAX form when pax is set,
// then a small regular file (so that a reader that stops at the sparse
// file is seen to).
func SparseLayer(name string, size int64, pax bool) []byte {
	var buf bytes.Buffer
	if pax {
		buf.Write(SparsePAX(name, size))
	} else {
		buf.Write(SparseFile(name, size))
	}
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "after-sparse", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg, Format: tar.FormatGNU})
	tw.Write([]byte("ok"))
	tw.Close()
	return buf.Bytes()
}

// octal writes v in a tar number field: octal, or GNU base-256 when it
// does not fit (64 GiB does not fit in 11 octal digits).
func octal(b []byte, v int64) {
	s := strconv.FormatInt(v, 8)
	if len(s) > len(b)-1 {
		clear(b)
		for i := len(b) - 1; i > 0 && v > 0; i-- {
			b[i] = byte(v)
			v >>= 8
		}
		b[0] = 0x80
		return
	}
	for len(s) < len(b)-1 {
		s = "0" + s
	}
	copy(b, s)
	b[len(b)-1] = 0
}

func checksum(h []byte) {
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	s := strconv.FormatInt(sum, 8)
	for len(s) < 6 {
		s = "0" + s
	}
	copy(h[148:], s)
	h[154], h[155] = 0, ' '
}

// Layer is one layer of an archive: it writes its tar to w. It is called
// twice (once to hash it, once to store it), and must write the same
// bytes each time.
type Layer func(w io.Writer) error

// Bytes is a Layer of fixed bytes.
func Bytes(b []byte) Layer {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}

// ManyEntries is a layer of n empty files, /nix/store/<hash>-many/fNNNNNNN,
// in sorted order, each with mtime mtime (so two layers that differ only in
// mtime differ in every entry).
func ManyEntries(n int, mtime int64) Layer {
	return func(w io.Writer) error {
		tw := tar.NewWriter(w)
		dir := "nix/store/00000000000000000000000000000000-many/"
		if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o555, Typeflag: tar.TypeDir, ModTime: unix(mtime), Format: tar.FormatGNU}); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			h := &tar.Header{Name: fmt.Sprintf("%sf%07d", dir, i), Mode: 0o444, Typeflag: tar.TypeReg, ModTime: unix(mtime), Format: tar.FormatGNU}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		return tw.Close()
	}
}

// ManyEntriesPart is the files lo to hi-1 of ManyEntries (with their
// directory when lo is 0).
func ManyEntriesPart(lo, hi int, mtime int64) Layer {
	return func(w io.Writer) error {
		tw := tar.NewWriter(w)
		dir := "nix/store/00000000000000000000000000000000-many/"
		if lo == 0 {
			if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o555, Typeflag: tar.TypeDir, ModTime: unix(mtime), Format: tar.FormatGNU}); err != nil {
				return err
			}
		}
		for i := lo; i < hi; i++ {
			h := &tar.Header{Name: fmt.Sprintf("%sf%07d", dir, i), Mode: 0o444, Typeflag: tar.TypeReg, ModTime: unix(mtime), Format: tar.FormatGNU}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		return tw.Close()
	}
}

// ManyEntriesReversed is ManyEntries listed backwards (the files from the
// last to the first, then their directory): against ManyEntries, no entry
// of one layer comes in step with the other.
func ManyEntriesReversed(n int, mtime int64) Layer {
	return func(w io.Writer) error {
		tw := tar.NewWriter(w)
		dir := "nix/store/00000000000000000000000000000000-many/"
		for i := n - 1; i >= 0; i-- {
			h := &tar.Header{Name: fmt.Sprintf("%sf%07d", dir, i), Mode: 0o444, Typeflag: tar.TypeReg, ModTime: unix(mtime), Format: tar.FormatGNU}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o555, Typeflag: tar.TypeDir, ModTime: unix(mtime), Format: tar.FormatGNU}); err != nil {
			return err
		}
		return tw.Close()
	}
}

// Archive writes a docker-archive (manifest.json, the config, one
// layer.tar per layer) to w. config is the config's extra top-level
// fields (such as "config": {"Labels": ...}); rootfs is filled in.
func Archive(w io.Writer, config map[string]any, layers ...Layer) error {
	type meta struct {
		sum  string
		size int64
	}
	metas := make([]meta, len(layers))
	diffIDs := make([]string, len(layers))
	for i, l := range layers {
		h := sha256.New()
		c := &counter{w: h}
		if err := l(c); err != nil {
			return err
		}
		metas[i] = meta{hex.EncodeToString(h.Sum(nil)), c.n}
		diffIDs[i] = "sha256:" + metas[i].sum
	}
	cfg := map[string]any{"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:01Z"}
	for k, v := range config {
		cfg[k] = v
	}
	cfg["rootfs"] = map[string]any{"type": "layers", "diff_ids": diffIDs}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cs := sha256.Sum256(cfgJSON)
	cfgName := hex.EncodeToString(cs[:]) + ".json"
	var layerNames []string
	for _, m := range metas {
		layerNames = append(layerNames, m.sum+"/layer.tar")
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"hostile:latest"}, "Layers": layerNames}})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	file := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: unix(1)})
	}
	if err := file("manifest.json", int64(len(manifest))); err != nil {
		return err
	}
	tw.Write(manifest)
	if err := file(cfgName, int64(len(cfgJSON))); err != nil {
		return err
	}
	tw.Write(cfgJSON)
	for i, l := range layers {
		if err := file(layerNames[i], metas[i].size); err != nil {
			return err
		}
		if err := l(tw); err != nil {
			return err
		}
	}
	return tw.Close()
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// EndlessFile is a tar stream whose one entry, name, claims size bytes and
// whose content never ends (zeros): a reader stops only when told to.
func EndlessFile(name string, size int64) io.Reader {
	return io.MultiReader(bytes.NewReader(ustarHeader(name, '0', size)), zeros{})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// WriteManyArchive writes a gzipped docker-archive to path whose one layer
// is ManyEntries(n, mtime).
func WriteManyArchive(path string, n int, mtime int64) error {
	return writeGz(path, nil, ManyEntries(n, mtime))
}

// WriteReversedArchive writes a gzipped docker-archive to path whose one
// layer is ManyEntriesReversed(n, mtime).
func WriteReversedArchive(path string, n int, mtime int64) error {
	return writeGz(path, nil, ManyEntriesReversed(n, mtime))
}

// WriteSplitArchive writes a gzipped docker-archive to path with the
// entries of ManyEntries(n, mtime) in two layers, the first half and the
// second: against WriteManyArchive, half the files moved to another layer.
func WriteSplitArchive(path string, n int, mtime int64) error {
	return writeGz(path, nil, ManyEntriesPart(0, n/2, mtime), ManyEntriesPart(n/2, n, mtime))
}

// WriteLabelsArchive writes a gzipped docker-archive to path whose config
// has n labels (values depend on seed) and whose one layer is small.
func WriteLabelsArchive(path string, n int, seed int64) error {
	labels := make(map[string]string, n)
	for i := 0; i < n; i++ {
		labels[fmt.Sprintf("label.%08d", i)] = fmt.Sprintf("v%d-%d", seed, i)
	}
	return writeGz(path, map[string]any{"config": map[string]any{"Labels": labels}}, ManyEntries(1, 1))
}

func writeGz(path string, config map[string]any, layers ...Layer) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err := Archive(zw, config, layers...); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
