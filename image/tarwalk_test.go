package image_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"path"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/hostile"
	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/internal/testimage"
)

const walkSP = "00000000000000000000000000000000-hello-1.0"

// walkAll walks a tar and returns copies of its entries with their bodies.
func walkAll(t testing.TB, data []byte, opts image.TarWalkOptions) ([]image.TarEntry, []string, error) {
	t.Helper()
	w := image.NewTarWalker(bytes.NewReader(data), opts)
	var es []image.TarEntry
	var bodies []string
	for {
		e, err := w.Next()
		if err == io.EOF {
			return es, bodies, nil
		}
		if err != nil {
			return es, bodies, err
		}
		b, err := io.ReadAll(w)
		if err != nil {
			return es, bodies, err
		}
		es = append(es, *e)
		bodies = append(bodies, string(b))
	}
}

func TestTarWalkNames(t *testing.T) {
	sp := "nix/store/" + walkSP
	layer := testimage.Layer(t,
		testimage.Dir("./"),
		testimage.Dir("nix/store"),
		testimage.Dir("./"+sp),
		testimage.File(sp+"//bin/../bin/hello", "hi"),
		testimage.Entry{Name: sp + "/bin/hi", Type: tar.TypeLink, Linkname: "./" + sp + "/bin/hello"},
		testimage.Entry{Name: "bin", Type: tar.TypeSymlink, Linkname: "../" + sp + "/bin"},
		testimage.File("nix/store/.links/abc", "x"),
		testimage.File("nix/store/short-name/x", "x"),
		testimage.File("nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x/y", "not base-32"),
		testimage.File("etc/passwd", "root"),
	)
	es, bodies, err := walkAll(t, layer, image.TarWalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ path, sp, rel, link string }
	wants := []want{
		{"/", "", "", ""},
		{"/nix/store", "", "", ""},
		{"/" + sp, walkSP, "", ""},
		{"/" + sp + "/bin/hello", walkSP, "bin/hello", ""},
		{"/" + sp + "/bin/hi", walkSP, "bin/hi", "/" + sp + "/bin/hello"},
		{"/bin", "", "", ""},
		{"/nix/store/.links/abc", "", "", ""},
		{"/nix/store/short-name/x", "", "", ""},
		{"/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x/y", "", "", ""},
		{"/etc/passwd", "", "", ""},
	}
	if len(es) != len(wants) {
		t.Fatalf("%d entries, want %d", len(es), len(wants))
	}
	for i, w := range wants {
		e := es[i]
		if e.Path != w.path || e.StorePath != w.sp || e.Rel != w.rel || e.Link != w.link || e.Whiteout != image.NoWhiteout {
			t.Errorf("entry %d (%q) = %q %q %q link %q whiteout %d, want %+v", i, e.Header.Name, e.Path, e.StorePath, e.Rel, e.Link, e.Whiteout, w)
		}
	}
	if bodies[3] != "hi" || es[5].Header.Linkname != "../"+sp+"/bin" {
		t.Errorf("body %q, symlink target %q: want them as written", bodies[3], es[5].Header.Linkname)
	}
}

func TestTarWalkWhiteouts(t *testing.T) {
	layer := testimage.Layer(t,
		testimage.File("etc/.wh.passwd", ""),
		testimage.File("etc/.wh..wh..opq", ""),
		testimage.File(".wh..wh..opq", ""),
		testimage.File("nix/store/.wh."+walkSP, ""),
		testimage.File("nix/store/"+walkSP+"/share/.wh.doc", ""),
		testimage.File("etc/.wh..", ""),
		testimage.File("etc/x.wh.y", ""),
	)
	es, _, err := walkAll(t, layer, image.TarWalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wants := []struct {
		kind        image.Whiteout
		hidden, esp string
	}{
		{image.WhiteoutPath, "/etc/passwd", ""},
		{image.WhiteoutOpaque, "/etc", ""},
		{image.WhiteoutOpaque, "/", ""},
		{image.WhiteoutPath, "/nix/store/" + walkSP, ""},
		{image.WhiteoutPath, "/nix/store/" + walkSP + "/share/doc", walkSP},
		{image.WhiteoutPath, "/etc", ""}, // ".wh.." joins as a runtime joins it
		{image.NoWhiteout, "", ""},
	}
	if len(es) != len(wants) {
		t.Fatalf("%d entries, want %d", len(es), len(wants))
	}
	for i, w := range wants {
		if e := es[i]; e.Whiteout != w.kind || e.Hidden != w.hidden || e.StorePath != w.esp {
			t.Errorf("%q: whiteout %d hides %q in %q, want %d %q %q", e.Header.Name, e.Whiteout, e.Hidden, e.StorePath, w.kind, w.hidden, w.esp)
		}
	}
}

// A sparse file past MaxSparse is marked and reads as empty; the walk
// goes on to the next entry.
func TestTarWalkSparse(t *testing.T) {
	for _, pax := range []bool{false, true} {
		layer := hostile.SparseLayer("nix/store/"+walkSP+"/big", 64<<30, pax)
		es, bodies, err := walkAll(t, layer, image.TarWalkOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || !es[0].SparseTooLarge || bodies[0] != "" || es[1].SparseTooLarge || bodies[1] != "ok" {
			t.Fatalf("pax %v: %d entries, first sparse-too-large %v, bodies %q", pax, len(es), len(es) > 0 && es[0].SparseTooLarge, bodies)
		}
		small := hostile.SparseLayer("f", 1<<10, pax)
		es, bodies, err = walkAll(t, small, image.TarWalkOptions{MaxSparse: 1 << 20})
		if err != nil || len(es) == 0 {
			t.Fatalf("pax %v: a small sparse file: %d entries, %v", pax, len(es), err)
		}
		if es[0].SparseTooLarge || len(bodies[0]) != 1<<10 {
			t.Errorf("pax %v: a small sparse file: too large %v, %d bytes", pax, es[0].SparseTooLarge, len(bodies[0]))
		}
	}
}

// The walker reads its stream to the end, past the end-of-archive blocks,
// and reports a read error there (where a verifying layer reader fails).
func TestTarWalkReadsToEnd(t *testing.T) {
	layer := testimage.Layer(t, testimage.File("a", "x"))
	r := &failAtEnd{data: append(layer, make([]byte, 4096)...)}
	_, _, err := walkAll(t, r.data, image.TarWalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := image.NewTarWalker(r, image.TarWalkOptions{})
	for err == nil {
		_, err = w.Next()
	}
	if !errors.Is(err, errAtEnd) {
		t.Errorf("walk ended with %v, want the stream's error at its end", err)
	}
	two := testimage.Layer(t, testimage.File("a", "x"), testimage.File("b", "y"))
	if _, _, err := walkAll(t, two[:1024+100], image.TarWalkOptions{}); err == nil || !strings.Contains(err.Error(), "reading tar entry 2") {
		t.Errorf("truncated tar: %v, want an error naming the entry", err)
	}
}

var errAtEnd = errors.New("digest mismatch at the end")

type failAtEnd struct {
	data []byte
	off  int
}

func (f *failAtEnd) Read(p []byte) (int, error) {
	if f.off == len(f.data) {
		return 0, errAtEnd
	}
	n := copy(p, f.data[f.off:])
	f.off += n
	return n, nil
}

// FuzzTarWalk walks arbitrary bytes as a layer: an error or entries whose
// normalised names keep the walker's promises, never a panic.
func FuzzTarWalk(f *testing.F) {
	sp := "nix/store/" + walkSP
	f.Add(testimage.Layer(f,
		testimage.Dir("./"), testimage.Dir(sp), testimage.File(sp+"/bin/hello", "hi"),
		testimage.Entry{Name: sp + "/bin/hi", Type: tar.TypeLink, Linkname: sp + "/bin/hello"},
		testimage.File("etc/.wh.passwd", ""), testimage.File("nix/store/.wh..wh..opq", "")))
	f.Add(hostile.SparseLayer(sp+"/big", 64<<30, false))
	f.Add(hostile.SparseLayer("big", 1<<40, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := image.NewTarWalker(bytes.NewReader(data), image.TarWalkOptions{MaxSparse: 1 << 20})
		for range 10000 {
			e, err := w.Next()
			if err != nil {
				return
			}
			checkEntry(t, e)
			n, err := io.Copy(io.Discard, io.LimitReader(w, 2<<20))
			if e.SparseTooLarge && (n != 0 || err != nil) {
				t.Fatalf("%q: a sparse file too large read %d bytes, %v", e.Header.Name, n, err)
			}
		}
	})
}

// checkEntry checks what the walker promises about every entry.
func checkEntry(t *testing.T, e *image.TarEntry) {
	t.Helper()
	if !strings.HasPrefix(e.Path, "/") || path.Clean(e.Path) != e.Path || e.Path != image.EntryPath(e.Header.Name) {
		t.Fatalf("%q: path %q is not absolute and clean", e.Header.Name, e.Path)
	}
	if e.StorePath != "" {
		want := storepath.Dir + "/" + e.StorePath
		if e.Rel != "" {
			want += "/" + e.Rel
		}
		if want != e.Path || !storepath.IsBase(e.StorePath) {
			t.Fatalf("%q: store path %q and rel %q do not make %q", e.Header.Name, e.StorePath, e.Rel, e.Path)
		}
	} else if e.Rel != "" || storepath.Of(e.Path) != "" {
		t.Fatalf("%q: in no store path, yet rel %q, storepath.Of %q", e.Header.Name, e.Rel, storepath.Of(e.Path))
	}
	if (e.Link != "") != (e.Header.Typeflag == tar.TypeLink) || e.Link != "" && e.Link != image.EntryPath(e.Header.Linkname) {
		t.Fatalf("%q: link %q for type %q", e.Header.Name, e.Link, e.Header.Typeflag)
	}
	isWh := strings.HasPrefix(path.Base(e.Path), ".wh.")
	if isWh != (e.Whiteout != image.NoWhiteout) || !isWh && e.Hidden != "" || isWh && path.Clean(e.Hidden) != e.Hidden {
		t.Fatalf("%q: whiteout %d hides %q", e.Header.Name, e.Whiteout, e.Hidden)
	}
	if e.SparseTooLarge != (image.IsSparse(e.Header) && e.Header.Size > 1<<20) {
		t.Fatalf("%q: sparse too large %v for size %d", e.Header.Name, e.SparseTooLarge, e.Header.Size)
	}
}
