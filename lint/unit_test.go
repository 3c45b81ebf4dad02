package lint

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
)

// A clean synthetic image: a program reached through symlinks, every
// runtime file present.
func cleanLayers() [][]file {
	store := []file{
		dir("nix/store/aaa-app/"),
		dir("nix/store/aaa-app/bin/"),
		reg("nix/store/aaa-app/bin/app", "\x7fELF libssl.so.3 getaddrinfo libc.so.6", 0o555),
	}
	root := []file{
		dir("bin/"), sym("bin/app", "../usr/bin/app"),
		dir("usr/"), dir("usr/bin/"), sym("usr/bin/app", "/nix/store/aaa-app/bin/app"),
		dir("etc/"), reg("etc/passwd", "root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n", 0o644),
		reg("etc/group", "root:x:0:\napp:x:1000:\n", 0o644),
		reg("etc/nsswitch.conf", "hosts: files dns\n", 0o644),
		reg("etc/services", "https 443/tcp\n", 0o644), reg("etc/protocols", "tcp 6 TCP\n", 0o644),
		dir("etc/ssl/"), dir("etc/ssl/certs/"), reg("etc/ssl/certs/ca-certificates.crt", "CERT", 0o644),
		{name: "tmp/", typ: '5', mode: 0o1777, mt: 1},
	}
	return [][]file{store, root}
}

const cleanConfig = `{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:01Z",
	"config":{"Entrypoint":["app"],"Env":["PATH=/bin","LANG=C.UTF-8"],"User":"app:app"}}`

func TestCleanSyntheticImage(t *testing.T) {
	res := runSynth(t, synthImage(t, cleanConfig, cleanLayers()...), Options{})
	if len(res.Findings) != 0 {
		t.Fatalf("findings on a clean image: %v", ids(res))
	}
	if res.Failed() {
		t.Fatal("Failed() on a clean image")
	}
}

func TestRemovingRuntimeFilesTriggersRules(t *testing.T) {
	ls := cleanLayers()
	// A third layer deletes what the program needs, with whiteouts.
	ls = append(ls, []file{
		reg("etc/.wh.services", "", 0o644), reg("etc/ssl/.wh..wh..opq", "", 0o644),
		reg(".wh.tmp", "", 0o644), reg("etc/.wh.nsswitch.conf", "", 0o644),
	})
	res := runSynth(t, synthImage(t, cleanConfig, ls...), Options{})
	want := []string{"runtime-ca-certs", "runtime-nsswitch", "runtime-services", "runtime-tmp"}
	if got := ids(res); !slices.Equal(got, want) {
		t.Fatalf("rules = %v, want %v", got, want)
	}
}

func TestResolveThroughSymlinks(t *testing.T) {
	m := newModel(nil)
	for i, fs := range [][]file{
		{dir("a/"), dir("a/b/"), reg("a/b/f", "x", 0o755), sym("a/up", ".."), sym("a/loop", "loop2"), sym("a/loop2", "loop"),
			sym("abs", "/a/b"), sym("climb", "../../../../a/b/f")},
	} {
		for _, f := range fs {
			e := &entry{path: image.EntryPath(f.name), typ: f.typ, link: f.link, mode: uint32(f.mode), layer: int32(i)}
			m.add(e)
		}
	}
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"/abs/f", "/a/b/f", nil},
		{"/a/up/a/up/abs/f", "/a/b/f", nil},
		{"/climb", "/a/b/f", nil},
		{"/a/loop", "", errLoop},
		{"/a/b/f/x", "", errNotDir},
		{"/nothere/x", "", errMissing},
	} {
		got, _, err := m.resolve(tc.in)
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("resolve(%s) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestMarkerSplitAcrossReads(t *testing.T) {
	var w window
	w.reset()
	got := w.scan([]byte("xxxxlibs")) | w.scan([]byte("sl.so.3yyy"))
	if got.needs()&needTLS == 0 {
		t.Fatalf("libssl.so split across two reads was not found: %v", got.names(needTLS))
	}
	w.reset()
	if w.scan([]byte("libs"))|w.scan([]byte("xsl.so")) != 0 || w.seen != 0 {
		t.Fatal("found a marker that is not there")
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"Cmd", "Entrypoint", "Env", "ExposedPorts", "WorkingDir"}
	for in, want := range map[string]string{
		"Environment": "Env", "entrypoint": "Entrypoint", "Cmdd": "Cmd", "Ports": "ExposedPorts",
		"workdir": "WorkingDir", "Frobnicate": "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// A config with wrongly typed fields must still be linted, layers and all:
// go-containerregistry cannot parse it, so layers come from the raw diff_ids.
func TestWrongTypesStillReadLayers(t *testing.T) {
	cfg := `{"created":"1970-01-01T00:00:01Z","config":{"Env":"PATH=/bin","Cmd":["/bin/app"],"ExposedPorts":["80"]}}`
	res := runSynth(t, synthImage(t, cfg, []file{dir("bin/"), reg("bin/app", "\x7fELF", 0o555), {name: "tmp/", typ: '5', mode: 0o1777}}), Options{})
	if res.Image.Files != 3 {
		t.Fatalf("read %d files, want 3", res.Image.Files)
	}
	got := ids(res)
	if !slices.Equal(got, []string{"config-type"}) || len(res.Findings) != 2 {
		t.Fatalf("findings %v (%d), want two config-type", got, len(res.Findings))
	}
}

// TestWrongTypesStillReadLayersFromAManifest: the same for an image read
// from a manifest (a registry, an OCI layout), whose layers are listed by
// the manifest, not looked up through the typed config.
func TestWrongTypesStillReadLayersFromAManifest(t *testing.T) {
	cfg := `{"created":"1970-01-01T00:00:01Z","config":{"Env":"PATH=/bin","Cmd":["/bin/app"],"ExposedPorts":["80"]}}`
	img := manifestImage(t, cfg, []file{dir("bin/"), reg("bin/app", "\x7fELF", 0o555), {name: "tmp/", typ: '5', mode: 0o1777}})
	if _, err := img.LayerByDiffID(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}); err == nil || !strings.Contains(err.Error(), "cannot unmarshal") {
		t.Fatalf("the test image should parse its typed config to look a layer up by diff_id: %v", err)
	}
	res := runSynth(t, img, Options{})
	if res.Image.Files != 3 || !slices.Equal(ids(res), []string{"config-type"}) {
		t.Fatalf("read %d files, findings %v; want 3 files and config-type", res.Image.Files, ids(res))
	}
}

func TestSourceDateEpochAllowsItsDate(t *testing.T) {
	cfg := `{"created":"2024-01-01T00:00:00Z","config":{"Cmd":["/bin/app"]}}`
	layer := []file{dir("bin/"), {name: "bin/app", typ: '0', mode: 0o555, body: "\x7fELF", mt: 1704067200}, {name: "tmp/", typ: '5', mode: 0o1777, mt: 1}}
	res := runSynth(t, synthImage(t, cfg, layer), Options{})
	if got := ids(res); !slices.Equal(got, []string{"hazard-created", "hazard-mtime"}) {
		t.Fatalf("without SOURCE_DATE_EPOCH: %v", got)
	}
	sde := int64(1704067200)
	res = runSynth(t, synthImage(t, cfg, layer), Options{SourceDateEpoch: &sde})
	if len(res.Findings) != 0 {
		t.Fatalf("with SOURCE_DATE_EPOCH=%d: %v", sde, ids(res))
	}
}

func TestUnpinnedBaseInHistory(t *testing.T) {
	cfg := `{"created":"1970-01-01T00:00:01Z","history":[{"created_by":"/bin/sh -c #(nop) FROM alpine:3.19"},{"created_by":"FROM debian@sha256:abc"}],"config":{"Cmd":["/bin/app"]}}`
	res := runSynth(t, synthImage(t, cfg, []file{dir("bin/"), reg("bin/app", "\x7fELF", 0o555), {name: "tmp/", typ: '5', mode: 0o1777}}), Options{})
	f := find(res, "hazard-unpinned-base")
	if f == nil || f.Location.ConfigKey != "history[0]" || len(res.Findings) != 1 {
		t.Fatalf("want one hazard-unpinned-base at history[0], got %+v", res.Findings)
	}
}

// Streaming: a 256 MiB file is hashed and scanned without being held.
func TestStreamsLargeFiles(t *testing.T) {
	const size = 256 << 20
	img := synthImage(t, cleanConfig, append(cleanLayers(), []file{
		dir("data/"), {name: "data/big", typ: '0', mode: 0o755, size: size, mt: 1},
	})...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := runSynth(t, img, Options{})
	runtime.ReadMemStats(&after)
	if res.Image.Bytes < size {
		t.Fatalf("read %d bytes, want at least %d", res.Image.Bytes, size)
	}
	// The tar stream passes through a pipe and one reused buffer; a copy of
	// the file would allocate 256 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("linting allocated %d MiB for a %d MiB file: not streaming", alloc>>20, size>>20)
	}
}

func TestDuplicateAndShadowedContent(t *testing.T) {
	big := strings.Repeat("z", 100<<10)
	ls := cleanLayers()
	ls = append(ls, []file{dir("nix/store/bbb-x/"), reg("nix/store/bbb-x/blob", big, 0o444)},
		[]file{dir("nix/store/ccc-y/"), reg("nix/store/ccc-y/blob", big, 0o444)})
	res := runSynth(t, synthImage(t, cleanConfig, ls...), Options{})
	f := find(res, "size-duplicate")
	if f == nil || f.Bytes != 100<<10 {
		t.Fatalf("size-duplicate = %+v, want 100 KiB wasted", f)
	}
	res = runSynth(t, synthImage(t, cleanConfig, ls...), Options{MinWaste: 200 << 10})
	if find(res, "size-duplicate") != nil {
		t.Fatal("size-duplicate below MinWaste")
	}
}

// tzdata's posix/ copied once, following posix -> .: small files (no
// size-duplicate reaches them) that are one loop finding with their full
// size, naming the link; a symlinkJoin mirror of the tree (symlinks only)
// and the intact link are no finding.
func TestSymlinkLoopCopiedOnce(t *testing.T) {
	tz := "nix/store/bbb-tzdata/share/zoneinfo/"
	cp := "nix/store/ccc-tz-copy/share/zoneinfo/"
	store := []file{
		dir(tz), reg(tz+"UTC", "utc", 0o444), dir(tz + "Europe/"), reg(tz+"Europe/Berlin", "berlin", 0o444), sym(tz+"posix", "."),
		dir(cp), reg(cp+"UTC", "utc", 0o444), dir(cp + "Europe/"), reg(cp+"Europe/Berlin", "berlin", 0o444),
		dir(cp + "posix/"), reg(cp+"posix/UTC", "utc", 0o444), dir(cp + "posix/Europe/"), reg(cp+"posix/Europe/Berlin", "berlin", 0o444),
	}
	mirror := []file{
		dir("share/"), dir("share/zoneinfo/"), sym("share/zoneinfo/UTC", "/"+tz+"UTC"),
		dir("share/zoneinfo/posix/"), sym("share/zoneinfo/posix/UTC", "/"+tz+"UTC"),
	}
	ls := append(cleanLayers(), store, mirror)
	res := runSynth(t, synthImage(t, cleanConfig, ls...), Options{})
	if got := ids(res); !slices.Equal(got, []string{"size-symlink-loop"}) {
		t.Fatalf("rules = %v, want only size-symlink-loop", got)
	}
	f := find(res, "size-symlink-loop")
	if f.Location.Path != "/"+cp+"posix" || f.Bytes != int64(len("utc")+len("berlin")) || len(res.Findings) != 1 {
		t.Errorf("finding at %s with %d bytes (%d findings), want /%sposix with 9 bytes", f.Location.Path, f.Bytes, len(res.Findings), cp)
	}
	if ev := strings.Join(f.Evidence, "\n"); !strings.Contains(ev, "/"+tz+"posix -> .") || !strings.Contains(ev, "2 files") {
		t.Errorf("evidence does not name the link and the files:\n%s", ev)
	}
}

// stdenv's SOURCE_DATE_EPOCH, 1980-01-01, is a fixed date; a minute later
// is not.
func TestStdenvEpochIsFixed(t *testing.T) {
	ls := cleanLayers()
	for i := range ls[1] {
		ls[1][i].mt = 315532800
	}
	if res := runSynth(t, synthImage(t, cleanConfig, ls...), Options{}); len(res.Findings) != 0 {
		t.Errorf("1980-01-01 mtimes: %v, want no finding", ids(res))
	}
	ls[1][0].mt = 315532860
	if res := runSynth(t, synthImage(t, cleanConfig, ls...), Options{}); find(res, "hazard-mtime") == nil {
		t.Errorf("1980-01-01T00:01:00Z: %v, want hazard-mtime", ids(res))
	}
}

// A package that copies another's tree of small files (none reaches
// MinDuplicateSize), an alias symlink made a file, is one finding with
// every byte; the original is not called a copy of the copy.
func TestCopiedTree(t *testing.T) {
	orig := "nix/store/dddddddddddddddddddddddddddddddd-tzdata/share/zoneinfo/"
	cp := "nix/store/ffffffffffffffffffffffffffffffff-tz-bundle/share/zoneinfo/"
	store := []file{
		dir(orig), reg(orig+"UTC", "utc-data", 0o444), dir(orig + "Europe/"), reg(orig+"Europe/Berlin", "berlin-data", 0o444),
		sym(orig+"Europe/Busingen", "Berlin"),
		dir(cp), reg(cp+"UTC", "utc-data", 0o444), dir(cp + "Europe/"), reg(cp+"Europe/Berlin", "berlin-data", 0o444),
		reg(cp+"Europe/Busingen", "berlin-data", 0o444), reg("nix/store/ffffffffffffffffffffffffffffffff-tz-bundle/README", "bundle", 0o444),
	}
	res := runSynth(t, synthImage(t, cleanConfig, append(cleanLayers(), store)...), Options{MinWaste: 1})
	if got := ids(res); !slices.Equal(got, []string{"size-duplicate"}) || len(res.Findings) != 1 {
		t.Fatalf("rules = %v (%d findings), want one size-duplicate", got, len(res.Findings))
	}
	f := res.Findings[0]
	want := int64(len("utc-data") + 2*len("berlin-data"))
	if f.Location.Path != "/nix/store/ffffffffffffffffffffffffffffffff-tz-bundle/share" || f.Bytes != want || !strings.Contains(f.Title, "/nix/store/dddddddddddddddddddddddddddddddd-tzdata/share") {
		t.Errorf("finding %q at %s, %d bytes; want the bundle's share as a copy of tzdata's, %d bytes", f.Title, f.Location.Path, f.Bytes, want)
	}
}
