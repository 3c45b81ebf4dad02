package sbom

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nixdock/nixdock-action/internal/testimage"
)

func TestParseName(t *testing.T) {
	for _, tc := range []struct{ in, name, version string }{
		{"hello-2.12.1", "hello", "2.12.1"},
		{"python3.11-requests-2.31.0", "python3.11-requests", "2.31.0"},
		{"greeting-data-1.0", "greeting-data", "1.0"},
		{"glibc-2.38-27-bin", "glibc", "2.38-27-bin"},
		{"source", "source", ""},
		{"hello.tar", "hello.tar", ""},
		{"foo-_bar", "foo", "_bar"}, // Nix splits at a dash followed by any non-letter
	} {
		name, version := ParseName(tc.in)
		if name != tc.name || version != tc.version {
			t.Errorf("ParseName(%q) = %q, %q; want %q, %q", tc.in, name, version, tc.name, tc.version)
		}
	}
}

func TestSplitStorePath(t *testing.T) {
	h, n, err := SplitStorePath("/nix/store/cmk28bpfylacvxbixl73d2ckrikxsmqc-hello-2.12.1")
	if err != nil || h != "cmk28bpfylacvxbixl73d2ckrikxsmqc" || n != "hello-2.12.1" {
		t.Fatalf("got %q %q %v", h, n, err)
	}
	for _, bad := range []string{"/nix/store/short-x", "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x", ""} {
		if _, _, err := SplitStorePath(bad); err == nil {
			t.Errorf("SplitStorePath(%q): no error", bad)
		}
	}
}

func TestLicenseExpression(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
		refs []string
	}{
		{[]string{"MIT"}, "MIT", nil},
		{[]string{"gpl-3.0-or-later"}, "GPL-3.0-or-later", nil},
		{[]string{"MIT", "Apache-2.0"}, "MIT AND Apache-2.0", nil},
		{[]string{"MIT or Apache-2.0"}, "MIT OR Apache-2.0", nil},
		{[]string{"MIT OR Apache-2.0", "BSD-3-Clause"}, "(MIT OR Apache-2.0) AND BSD-3-Clause", nil},
		{[]string{"GPL-2.0-only WITH Classpath-exception-2.0"}, "GPL-2.0-only WITH Classpath-exception-2.0", nil},
		{[]string{"unfree"}, "LicenseRef-unfree", []string{"LicenseRef-unfree"}},
		{[]string{"Public Domain"}, "LicenseRef-Public-Domain", []string{"LicenseRef-Public-Domain"}},
		{[]string{"LGPL-2.1+"}, "LGPL-2.1+", nil},
		{[]string{"MIT-Khronos-old"}, "MIT-Khronos-old", nil}, // on the list since 3.24
		{[]string{"MIT AND"}, "LicenseRef-MIT-AND", []string{"LicenseRef-MIT-AND"}},
		{[]string{"(MIT OR Apache-2.0"}, "LicenseRef--MIT-OR-Apache-2.0", []string{"LicenseRef--MIT-OR-Apache-2.0"}},
		{[]string{"GPL-2.0-only WITH Bogus-exception"}, "LicenseRef-GPL-2.0-only-WITH-Bogus-exception", []string{"LicenseRef-GPL-2.0-only-WITH-Bogus-exception"}},
		{[]string{"(MIT OR foo) AND bar"}, "(MIT OR LicenseRef-foo) AND LicenseRef-bar", []string{"LicenseRef-bar", "LicenseRef-foo"}},
	} {
		got, refs := LicenseExpression(tc.in)
		if got != tc.want || strings.Join(refs, ",") != strings.Join(tc.refs, ",") {
			t.Errorf("LicenseExpression(%q) = %q %q; want %q %q", tc.in, got, refs, tc.want, tc.refs)
		}
	}
}

func TestNixPURL(t *testing.T) {
	const p = "/nix/store/cmk28bpfylacvxbixl73d2ckrikxsmqc-hello-2.12.1"
	c := &Component{Path: p, Name: "hello", Version: "2.12.1", Output: "out", Origin: NixpkgsNamespace}
	if got, want := NixPURL(c), "pkg:nix/nixpkgs/hello@2.12.1?store_path=%2Fnix%2Fstore%2Fcmk28bpfylacvxbixl73d2ckrikxsmqc-hello-2.12.1"; got != want {
		t.Errorf("NixPURL = %q, want %q", got, want)
	}
	c = &Component{Path: "/nix/store/x-gtk+3-bin", Name: "gtk+3", Output: "bin"}
	if got, want := NixPURL(c), "pkg:nix/gtk%2B3?output=bin&store_path=%2Fnix%2Fstore%2Fx-gtk%2B3-bin"; got != want {
		t.Errorf("NixPURL = %q, want %q", got, want)
	}
}

// TestNameFromStorePathOutput: a store path of a non-default output gets
// the name, version and output its derivation gives it.
func TestNameFromStorePathOutput(t *testing.T) {
	fromPath := Component{Path: "/nix/store/" + hashA + "-glibc-2.38-27-bin"}
	fromPath.nameFrom(nil)
	drv := "/nix/store/" + hashB + "-glibc-2.38-27.drv"
	fromDrv := Component{Path: fromPath.Path, Deriver: drv}
	fromDrv.nameFrom(map[string]drvInfo{drv: {pname: "glibc", version: "2.38-27", outputs: map[string]string{"bin": fromPath.Path}}})
	if NixPURL(&fromPath) != NixPURL(&fromDrv) || fromPath.Output != "bin" || fromPath.Version != "2.38-27" {
		t.Errorf("store path: %s %+v\nderivation: %s", NixPURL(&fromPath), fromPath, NixPURL(&fromDrv))
	}
}

func TestImagePURL(t *testing.T) {
	const dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ ref, digest, want string }{
		{"ghcr.io/me/Hello:v1", dg, "pkg:oci/hello@" + dg + "?repository_url=ghcr.io%2Fme%2Fhello"},
		{"127.0.0.1:5055/hello", dg, "pkg:oci/hello@" + dg + "?repository_url=127.0.0.1:5055%2Fhello"},
		{"127.0.0.1:5055/hello:1.0", dg, "pkg:oci/hello@" + dg + "?repository_url=127.0.0.1:5055%2Fhello"},
		{"127.0.0.1:5055/team/hello@" + dg, "", "pkg:oci/hello@" + dg + "?repository_url=127.0.0.1:5055%2Fteam%2Fhello"},
		{"localhost/a/b:x@" + dg, dg, "pkg:oci/b@" + dg + "?repository_url=localhost%2Fa%2Fb"},
		{"index.docker.io/debian", dg, "pkg:oci/debian@" + dg + "?repository_url=docker.io%2Flibrary%2Fdebian"},
		{"hello:1.0", dg, "pkg:oci/hello@" + dg},
	} {
		got, err := ImagePURL(tc.ref, tc.digest)
		if err != nil || got != tc.want {
			t.Errorf("ImagePURL(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
		if p, err := ParsePURL(got); err != nil || p.String() != got {
			t.Errorf("%s does not parse back: %v", got, err)
		}
	}
	for _, bad := range [][2]string{
		{"hello", ""},           // no digest
		{"hello", "sha256:abc"}, // short digest
		{"My Image", dg},        // not a reference
		{"ghcr.io/me/hello@" + dg, "sha256:" + strings.Repeat("f", 64)}, // digests disagree
		{"ghcr.io/me/he__-llo", dg},                                     // bad component
	} {
		if got, err := ImagePURL(bad[0], bad[1]); err == nil {
			t.Errorf("ImagePURL(%q, %q) = %q, want an error", bad[0], bad[1], got)
		}
	}
}

func TestParsePURL(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:github/gnu/hello@2.12.1":                                         "pkg:github/gnu/hello@2.12.1",
		"pkg:generic/openssl@3.0?download_url=https://x/y&checksum=sha256:ab": "pkg:generic/openssl@3.0?checksum=sha256:ab&download_url=https:%2F%2Fx%2Fy",
		"pkg:pypi/Requests@2.31.0#src/x":                                      "pkg:pypi/Requests@2.31.0#src/x",
	} {
		got, err := CanonicalPURL(in)
		if err != nil || got != want {
			t.Errorf("CanonicalPURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"not-a-purl", "pkg:", "pkg:/x", "pkg:1abc/x", "pkg:npm/", "pkg:npm/a b", "pkg:npm/a?k=1&k=2", "pkg:npm/a?1k=v", "pkg:npm/a%zz", "pkg:npm/a#../x"} {
		if got, err := ParsePURL(bad); err == nil {
			t.Errorf("ParsePURL(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestCleanCPEAndURL(t *testing.T) {
	for in, want := range map[string]string{
		"cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*":       "cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*",
		"cpe:/a:gnu:hello:2.12.1":                        "cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*",
		"cpe:/a:openbsd:openssh:8.0%21p1::~~~linux~x64~": "cpe:2.3:a:openbsd:openssh:8.0\\!p1:*:*:*:*:linux:x64:*",
	} {
		got, err := CleanCPE(in)
		if err != nil || got != want {
			t.Errorf("CleanCPE(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"not a cpe", "cpe:2.3:a:gnu", "cpe:2.3:a:gnu:hello:1 0:*:*:*:*:*:*:*"} {
		if got, err := CleanCPE(bad); err == nil {
			t.Errorf("CleanCPE(%q) = %q, want an error", bad, got)
		}
	}
	if got := cpeFromParts(map[string]string{"part": "a", "vendor": "gnu", "product": "hello", "version": "2.12.1"}); got != "cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*" {
		t.Errorf("cpeFromParts = %q", got)
	}
	if got, err := CleanURL(" https://example.org/a b "); err != nil || got != "https://example.org/a%20b" {
		t.Errorf("CleanURL with a space = %q, %v", got, err)
	}
	for _, bad := range []string{"not a url", "javascript:alert(1)", "https://", "/relative", "https://x/\x00", "mirror://gnu/hello"} {
		if got, err := CleanURL(bad); err == nil {
			t.Errorf("CleanURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestRefScannerAcrossWrites(t *testing.T) {
	const h = "cmk28bpfylacvxbixl73d2ckrikxsmqc"
	data := []byte("xx /nix/store/" + h + "-hello/bin and 0123456789abcdfghijklmnpqrsvwx (31 chars)")
	for split := 0; split <= len(data); split++ {
		r := newRefScanner()
		r.Write(data[:split])
		r.Write(data[split:])
		if !r.found(h) {
			t.Fatalf("split at %d: hash not found", split)
		}
		if r.found("0123456789abcdfghijklmnpqrsvwx ") {
			t.Fatalf("split at %d: found a window with a space", split)
		}
	}
	// Byte by byte, as small writes come.
	r := newRefScanner()
	for _, b := range data {
		r.Write([]byte{b})
	}
	if !r.found(h) || len(r.seen) != 1 {
		t.Fatalf("byte-wise: found=%v candidates=%d", r.found(h), len(r.seen))
	}
}

// entry is a tar entry for test layers.
// entry is one tar entry of a test layer.
type entry = testimage.Entry

func tarBytes(t testing.TB, entries []entry) []byte { return testimage.Layer(t, entries...) }

func layerOf(t testing.TB, data []byte) v1.Layer { return testimage.LayerFromBytes(t, data) }

const (
	hashA = "2fcy4ix4c6ccqbl8iqj34nzky5z9zdj1"
	hashB = "cmk28bpfylacvxbixl73d2ckrikxsmqc"
)

// sortedEntries is store path B (referring to A) in NAR order.
func sortedEntries() []entry {
	b := "nix/store/" + hashB + "-hello-1.0"
	return []entry{
		{Name: "nix/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "nix/store/", Type: tar.TypeDir, Mode: 0o755},
		{Name: b + "/", Type: tar.TypeDir, Mode: 0o555},
		{Name: b + "/bin/", Type: tar.TypeDir, Mode: 0o555},
		{Name: b + "/bin/hello", Type: tar.TypeReg, Mode: 0o555, Body: "#!/bin/sh\ncat /nix/store/" + hashA + "-data/x\n"},
		{Name: b + "/bin/hi", Type: tar.TypeSymlink, Linkname: "hello"},
		{Name: b + "/share/", Type: tar.TypeDir, Mode: 0o555},
		{Name: b + "/share/a", Type: tar.TypeReg, Mode: 0o444, Body: "a"},
		{Name: b + "/share/b", Type: tar.TypeReg, Mode: 0o444, Body: strings.Repeat("b", 9)},
	}
}

func scanOne(t *testing.T, entries []entry) *pathResult {
	t.Helper()
	res, err := scanLayer(context.Background(), layerOf(t, tarBytes(t, entries)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.paths) != 1 {
		t.Fatalf("%d store paths, want 1", len(res.paths))
	}
	for _, r := range res.paths {
		return r
	}
	return nil
}

// TestSpoolEqualsStream checks that the fallback (spooling an unsorted or
// hard-linked path to disk) gives the same NAR hash, size and references
// as streaming a sorted one.
func TestSpoolEqualsStream(t *testing.T) {
	sorted := scanOne(t, sortedEntries())
	if !sorted.refs.found(hashA) {
		t.Fatal("reference to A not found")
	}
	shuffled := sortedEntries()
	shuffled[7], shuffled[8] = shuffled[8], shuffled[7] // share/b before share/a
	noParents := append(sortedEntries()[:2], sortedEntries()[4:]...)
	linked := sortedEntries()
	linked = append(linked[:8], entry{Name: linked[8].Name, Type: tar.TypeReg, Mode: 0o444, Body: "a"})
	linkedHard := sortedEntries()
	linkedHard = append(linkedHard[:8], entry{Name: linkedHard[8].Name, Type: tar.TypeLink, Linkname: linkedHard[7].Name})
	for name, entries := range map[string][]entry{"shuffled": shuffled, "implicit dirs": noParents} {
		got := scanOne(t, entries)
		if got.narHash != sorted.narHash || got.narSize != sorted.narSize || !got.refs.found(hashA) {
			t.Errorf("%s: hash %x size %d, want %x size %d", name, got.narHash, got.narSize, sorted.narHash, sorted.narSize)
		}
	}
	want := scanOne(t, linked)
	got := scanOne(t, linkedHard)
	if got.narHash != want.narHash || got.narSize != want.narSize {
		t.Errorf("hard link: hash %x, want %x (the same file written twice)", got.narHash, want.narHash)
	}
}

// TestNARFormat checks the serialization against a NAR written by hand
// from the format's definition, for a single-file store path.
func TestNARFormat(t *testing.T) {
	entries := []entry{{Name: "nix/store/" + hashA + "-file", Type: tar.TypeReg, Mode: 0o444, Body: "hi\n"}}
	got := scanOne(t, entries)
	var nar bytes.Buffer
	str := func(s string) {
		var n [8]byte
		n[0] = byte(len(s))
		nar.Write(n[:])
		nar.WriteString(s)
		nar.Write(make([]byte, (8-len(s)%8)%8))
	}
	for _, s := range []string{"nix-archive-1", "(", "type", "regular", "contents", "hi\n", ")"} {
		str(s)
	}
	want := sha256.Sum256(nar.Bytes())
	if got.narHash != want || got.narSize != int64(nar.Len()) {
		t.Fatalf("NAR hash %x size %d, want %x size %d", got.narHash, got.narSize, want, nar.Len())
	}
}

func TestSpoolRefusesEntriesBelowSymlinks(t *testing.T) {
	b := "nix/store/" + hashB + "-x"
	entries := []entry{
		{Name: b + "/", Type: tar.TypeDir, Mode: 0o555},
		{Name: b + "/link", Type: tar.TypeSymlink, Linkname: "/tmp"},
		{Name: b + "/link/escape", Type: tar.TypeReg, Mode: 0o444, Body: "x"},
	}
	_, err := scanLayer(context.Background(), layerOf(t, tarBytes(t, entries)), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("err = %v, want a refusal naming the symlink", err)
	}
}

func TestMergeWhiteoutsAndEdges(t *testing.T) {
	a := "nix/store/" + hashA + "-data"
	l0 := scanLayerT(t, []entry{{Name: a + "/", Type: tar.TypeDir}, {Name: a + "/x", Type: tar.TypeReg, Body: "data"}})
	l1 := scanLayerT(t, sortedEntries())
	l2 := scanLayerT(t, []entry{{Name: "nix/store/.wh." + hashB + "-hello-1.0", Type: tar.TypeReg}})
	d := &Document{Subject: Subject{DiffIDs: []string{"l0", "l1", "l2"}}}
	merge(d, []*layerResult{l0, l1})
	if len(d.Components) != 2 || strings.Join(d.Components[1].DependsOn, ",") != "/nix/store/"+hashA+"-data" {
		t.Fatalf("components %+v", d.Components)
	}
	if d.Components[0].Layers[0] != "l0" || d.Components[1].Layers[0] != "l1" {
		t.Errorf("layers %v %v", d.Components[0].Layers, d.Components[1].Layers)
	}
	d = &Document{Subject: Subject{DiffIDs: []string{"l0", "l1", "l2"}}}
	merge(d, []*layerResult{l0, l1, l2})
	if len(d.Components) != 1 || d.Components[0].Hash != hashA {
		t.Fatalf("after whiteout: %+v", d.Components)
	}
}

func scanLayerT(t *testing.T, entries []entry) *layerResult {
	res, err := scanLayer(context.Background(), layerOf(t, tarBytes(t, entries)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestUUIDIsVersion8(t *testing.T) {
	u := uuid(sha256.Sum256([]byte("x")))
	if len(u) != 36 || u[14] != '8' || !strings.ContainsRune("89ab", rune(u[19])) {
		t.Fatalf("uuid %q", u)
	}
	if _, err := hex.DecodeString(strings.ReplaceAll(u, "-", "")); err != nil {
		t.Fatal(err)
	}
}

func TestParseMetaShapes(t *testing.T) {
	m, err := ParseMeta([]byte(`{"/nix/store/` + hashA + `-a.drv": {"license": [{"spdxId": "MIT"}, {"shortName": "unfree"}], "homepage": ["https://x", "https://y"], "description": "d"},
		"/nix/store/` + hashB + `-b.drv": {"license": "Apache-2.0", "homepage": null}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := m["/nix/store/"+hashA+"-a.drv"]
	if strings.Join(a.Licenses, ",") != "MIT,unfree" || a.Homepage != "https://x" || a.Description != "d" {
		t.Errorf("a = %+v", a)
	}
	if _, err := ParseMeta([]byte(`{"/nix/store/x": {}}`)); err == nil {
		t.Error("a key that is not a .drv path was accepted")
	}
	if _, err := ParseMeta([]byte(`{"/nix/store/x.drv": {"license": 3}}`)); err == nil {
		t.Error("a numeric license was accepted")
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(`{"/nix/store/a.drv": {"license": ["MIT"], "description": "x"}}`))
	f.Add([]byte(`{"/nix/store/a.drv": {"license": {"spdxId": "MIT"}, "homepage": ["u"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta(data)
		if err != nil {
			return
		}
		for _, e := range m {
			LicenseExpression(e.Licenses)
		}
	})
}

// FuzzScanLayer feeds arbitrary tar streams to the layer scanner: errors
// are fine, panics and escapes from the spool directory are not.
func FuzzScanLayer(f *testing.F) {
	f.Add(tarBytes(f, sortedEntries()))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := scanLayer(context.Background(), layerOf(t, data), t.TempDir())
		if err != nil {
			return
		}
		names := sortedKeys(res.paths)
		if !sort.StringsAreSorted(names) {
			t.Fatal("unsorted")
		}
	})
}
