package verify

import (
	"archive/tar"
	"bytes"
	"reflect"
	"testing"
	"time"
)

// TestPendingRoundTrip: an entry read back from the store has every field
// it was written with, a nil head stays nil and an empty head stays empty.
func TestPendingRoundTrip(t *testing.T) {
	es := []*entry{
		{name: "/nix/store/x/a", index: 7, typeflag: tar.TypeReg, mode: 0o4755, uid: -1, gid: 30000,
			uname: "u\x1b", gname: "g", mtime: time.Unix(-5, 123).UTC(), size: 3, linkname: "l",
			pax: map[string]string{"SCHILY.xattr.user.x": "v", "k": ""}, sum: [32]byte{1, 2, 3},
			head: []byte("abc"), whole: true},
		{name: "/b", mtime: time.Unix(1<<40, 0).UTC(), head: []byte{}, skip: true},
		{name: "/c", mtime: time.Unix(0, 0).UTC()},
	}
	p := newPendingStore()
	defer p.close()
	for _, e := range es {
		if prev, err := p.put(e); err != nil || prev != nil {
			t.Fatalf("put %s: prev %v, err %v", e.name, prev, err)
		}
	}
	for _, e := range es {
		got, err := p.take(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("read back\n%+v\nwant\n%+v", got, e)
		}
	}
	if p.len() != 0 {
		t.Errorf("%d entries left, want none", p.len())
	}
}

// TestPendingCollisions: names whose hashes collide are told apart by name,
// and a name put twice replaces its first entry.
func TestPendingCollisions(t *testing.T) {
	p := newPendingStore()
	defer p.close()
	p.hash = func(string) uint64 { return 42 }
	for i, n := range []string{"/a", "/b", "/c", "/b"} {
		prev, err := p.put(&entry{name: n, index: i, mtime: time.Unix(0, 0).UTC()})
		if err != nil {
			t.Fatal(err)
		}
		if (prev != nil) != (i == 3) || (prev != nil && prev.index != 1) {
			t.Errorf("put %s (%d): replaced %+v", n, i, prev)
		}
	}
	if e, err := p.take("/zz"); err != nil || e != nil {
		t.Errorf("take of a name never put: %+v, %v", e, err)
	}
	if e, err := p.take("/b"); err != nil || e == nil || e.index != 3 {
		t.Errorf("take /b: %+v, %v; want the later entry (index 3)", e, err)
	}
	rest, err := p.leftovers()
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 2 || rest[0].name != "/a" || rest[1].name != "/c" {
		t.Fatalf("left %+v, want /a and /c in order", rest)
	}
	for i, want := range []int{0, 2} {
		if e, err := p.get(rest[i].off); err != nil || e.name != rest[i].name || e.index != want {
			t.Errorf("get %+v: %+v, %v; want index %d", rest[i], e, err, want)
		}
	}
}

// TestDiffReversed: a layer listed backwards against the same layer in
// order differs only in the entries' positions, however many wait.
func TestDiffReversed(t *testing.T) {
	var files [][2]string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		files = append(files, [2]string{n, "content " + n})
	}
	rev := make([][2]string, len(files))
	for i, f := range files {
		rev[len(files)-1-i] = f
	}
	td, err := diffTars(bytes.NewReader(tarBytes(t, files)), bytes.NewReader(tarBytes(t, rev)), tarOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer td.close()
	if len(td.onlyA)+len(td.onlyB) != 0 {
		t.Errorf("unmatched %d + %d, want every entry matched", len(td.onlyA), len(td.onlyB))
	}
	var moved []string
	for _, f := range td.files {
		if len(f.Fields) != 1 || f.Fields[0].Field != "position" {
			t.Errorf("%s: %+v, want only its position", f.Path, f.Fields)
		}
		moved = append(moved, f.Path)
	}
	// e meets e live (in step, positions not compared), c keeps its
	// position, the others are matched from the store as B reaches them.
	if want := []string{"/d", "/b", "/a"}; !reflect.DeepEqual(moved, want) {
		t.Errorf("moved %v, want %v", moved, want)
	}
}
