package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/testimage"
)

func nullLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// member is one file of a generated archive.
type member struct {
	name string
	data []byte
	// link makes the member a symlink to link instead of a file.
	link string
}

// layerTar is a small layer: one file under a store-path-shaped directory.
func layerTar(t testing.TB, file, content string) []byte {
	t.Helper()
	return testimage.Layer(t, testimage.Entry{Name: file, Body: content, Mode: 0o644, Type: tar.TypeReg})
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// goodArchive returns the members of a valid two-layer docker-archive, in the
// layout dockerTools writes.
func goodArchive(t testing.TB) []member {
	l1 := layerTar(t, "nix/store/aaaa-one/file", "one\n")
	l2 := layerTar(t, "nix/store/bbbb-two/file", "two\n")
	return archiveOf(t, [][]byte{l1, l2}, nil)
}

// archiveOf builds manifest, config and layer members. diffIDs overrides
// the config's diff_ids when not nil.
func archiveOf(t testing.TB, layers [][]byte, diffIDs []string) []member {
	var names []string
	ids := diffIDs
	var ms []member
	for _, l := range layers {
		name := sha(l) + "/layer.tar"
		names = append(names, name)
		ms = append(ms, member{name: name, data: l})
		if diffIDs == nil {
			ids = append(ids, "sha256:"+sha(l))
		}
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:01Z",
		"config": map[string]any{"Env": []string{"PATH=/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": ids},
	})
	cfgName := sha(cfg) + ".json"
	man, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"x:1"}, "Layers": names}})
	return append([]member{{name: cfgName, data: cfg}, {name: "manifest.json", data: man}}, ms...)
}

func tarOf(t testing.TB, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg, Format: tar.FormatGNU}
		if m.link != "" {
			h = &tar.Header{Name: m.name, Linkname: m.link, Mode: 0o777, Typeflag: tar.TypeSymlink, Format: tar.FormatGNU}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.link == "" {
			tw.Write(m.data)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// openAndDescribe is what `nixdock inspect` does.
func openAndDescribe(src string) (image.Digests, error) {
	img, err := image.Open(context.Background(), src, image.Options{})
	if err != nil {
		return image.Digests{}, err
	}
	defer img.Close()
	_, d, err := image.Describe(context.Background(), img, image.DescribeOptions{Compression: image.None})
	return d, err
}

// BadArchives are the tampered and malformed archives every opener must
// reject; internal/cli's inspect tests reuse the same cases through files.
func badArchives(t testing.TB) []struct {
	name, file string
	data       []byte
	notImage   bool   // ErrNotImage rather than ErrBadArchive
	want       string // in the error message
} {
	good := goodArchive(t)
	l1 := good[2].data

	tampered := append([]member{}, good...)
	tampered[2] = member{name: good[2].name, data: layerTar(t, "nix/store/aaaa-one/file", "ONE\n")}

	var noConfig []member
	for _, m := range good {
		if !strings.HasSuffix(m.name, ".json") || m.name == "manifest.json" {
			noConfig = append(noConfig, m)
		}
	}
	missingLayer := append([]member{}, good[:3]...)

	escape := append(append([]member{}, good...), member{name: "../x", data: []byte("x")})
	abs := append(append([]member{}, good...), member{name: "/etc/x", data: []byte("x")})
	linkOut := append(append([]member{}, good...), member{name: "evil", link: "../../etc/passwd"})
	count := archiveOf(t, [][]byte{l1}, []string{"sha256:" + sha(l1), "sha256:" + sha(l1)})
	noManifest := []member{{name: "hello.txt", data: []byte("hi\n")}}
	badJSON := append([]member{}, good...)
	badJSON[1] = member{name: "manifest.json", data: []byte("{not json")}

	gz := gzipOf(tarOf(t, good))
	return []struct {
		name, file string
		data       []byte
		notImage   bool
		want       string
	}{
		{"tampered layer", "tampered.tar", tarOf(t, tampered), false, "but the config's diff_id is"},
		{"missing config", "noconfig.tar", tarOf(t, noConfig), false, "which is not in the archive"},
		{"missing layer file", "nolayer.tar", tarOf(t, missingLayer), false, "which is not in the archive"},
		{"member ../x", "escape.tar", tarOf(t, escape), false, "escapes the archive"},
		{"member /abs", "abs.tar", tarOf(t, abs), false, "absolute path"},
		{"symlink out", "link.tar", tarOf(t, linkOut), false, "escapes the archive"},
		{"diff_id count", "count.tar", tarOf(t, count), false, "2 diff_ids for 1 layers"},
		{"no manifest", "plain.tar", tarOf(t, noManifest), false, "no manifest.json"},
		{"bad manifest", "badjson.tar", tarOf(t, badJSON), false, "manifest.json"},
		{"not an image", "notes.txt", []byte("just some text, no tar here\n"), true, "not a docker-archive"},
		{"empty file", "empty.tar", nil, true, "not a docker-archive"},
		{"truncated gzip", "trunc.tar.gz", gz[:len(gz)/2], false, "decompressing"},
		{"corrupt gzip", "corrupt.tar.gz", corrupt(gz), false, "decompressing"},
	}
}

// corrupt flips a byte in the middle of a gzip stream, past its header.
func corrupt(b []byte) []byte {
	c := append([]byte{}, b...)
	c[len(c)/2] ^= 0xff
	return c
}

// TestBadArchives: every tampered or malformed archive is one error that
// wraps ErrBadArchive (or ErrNotImage) and names the file.
func TestBadArchives(t *testing.T) {
	for _, tc := range badArchives(t) {
		t.Run(tc.name, func(t *testing.T) {
			src := writeTemp(t, tc.file, tc.data)
			_, err := openAndDescribe(src)
			if err == nil {
				t.Fatalf("%s opened and described without error", tc.file)
			}
			want := image.ErrBadArchive
			if tc.notImage {
				want = image.ErrNotImage
			}
			if !errors.Is(err, want) {
				t.Errorf("error %q does not wrap %q", err, want)
			}
			msg := err.Error()
			if !strings.Contains(msg, src) {
				t.Errorf("error %q does not name %s", msg, src)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
		})
	}
}

// TestGoodArchive: the generated archive itself opens, in every compression
// and with docker save's symlinked duplicate layers.
func TestGoodArchive(t *testing.T) {
	good := goodArchive(t)
	plain := writeTemp(t, "good.tar", tarOf(t, good))
	want, err := openAndDescribe(plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Layers) != 2 || want.Layers[0].DiffID != "sha256:"+sha(good[2].data) {
		t.Fatalf("layers %+v, want two, the first %s", want.Layers, sha(good[2].data))
	}
	linked := append([]member{}, good...)
	linked = append(linked, member{name: "dup/layer.tar", link: "../" + good[2].name})
	for name, data := range map[string][]byte{
		"good.tar.gz": gzipOf(tarOf(t, good)),
		"linked.tar":  tarOf(t, linked),
	} {
		got, err := openAndDescribe(writeTemp(t, name, data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ManifestDigest != want.ManifestDigest {
			t.Errorf("%s: manifest %s, want %s", name, got.ManifestDigest, want.ManifestDigest)
		}
	}
}

// TestNotFound: a missing path that is no reference is ErrNotImage.
func TestNotFound(t *testing.T) {
	_, err := image.Open(context.Background(), "no-such-file.tar", image.Options{})
	if !errors.Is(err, image.ErrNotImage) || !strings.Contains(err.Error(), "no-such-file.tar") {
		t.Fatalf("error %v, want ErrNotImage naming the file", err)
	}
}

func TestMissingPathIsNotAReference(t *testing.T) {
	for _, src := range []string{"/nonexistent/image.tar", "./missing.tar.gz", "../x.tar"} {
		_, err := image.Open(context.Background(), src, image.Options{})
		if err == nil || !errors.Is(err, image.ErrNotImage) || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("Open(%q) = %v, want a no-such-file error without a registry lookup", src, err)
		}
	}
}
