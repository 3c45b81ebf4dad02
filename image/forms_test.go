package image_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/nix"
)

// built builds attr of hello.nix in the machine's store and returns the
// path of the image file Nix produced.
func built(t *testing.T, attr string) string {
	t.Helper()
	return nixtest.Build(t, "", "hello.nix", attr).Record.OutPath
}

// describe opens src and describes it with compression c.
func describe(t *testing.T, src string, opts image.Options, c image.Compression) (*image.Image, v1.Image, image.Digests) {
	t.Helper()
	img, err := image.Open(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("opening %s: %v", src, err)
	}
	t.Cleanup(func() { img.Close() })
	pub, d, err := image.Describe(context.Background(), img, image.DescribeOptions{Compression: c})
	if err != nil {
		t.Fatalf("describing %s: %v", src, err)
	}
	return img, pub, d
}

func diffIDs(d image.Digests) []string {
	var ids []string
	for _, l := range d.Layers {
		ids = append(ids, l.DiffID)
	}
	return ids
}

// sameImage fails unless a and b have the same config and diff_ids.
func sameImage(t *testing.T, what string, a, b image.Digests) {
	t.Helper()
	if a.ConfigDigest != b.ConfigDigest {
		t.Errorf("%s: config digest %s, want %s", what, b.ConfigDigest, a.ConfigDigest)
	}
	if got, want := strings.Join(diffIDs(b), ","), strings.Join(diffIDs(a), ","); got != want {
		t.Errorf("%s: diff_ids\n %s\nwant\n %s", what, got, want)
	}
}

// TestArchiveForms opens the .tar, .tar.gz, .tar.zst and stream forms of the
// same image: each opens as its form and has the same config and diff_ids.
func TestArchiveForms(t *testing.T) {
	nixtest.Require(t)
	_, _, ref := describe(t, built(t, "image"), image.Options{}, image.Gzip)
	if len(ref.Layers) < 2 {
		t.Fatalf("hello image has %d layers, want at least 2 (one per store path)", len(ref.Layers))
	}
	for _, tc := range []struct {
		attr string
		form image.Form
		ext  string
	}{
		{"image", image.FormArchive, ".tar"},
		{"imageGz", image.FormArchive, ".tar.gz"},
		{"imageZst", image.FormArchive, ".tar.zst"},
		{"stream", image.FormStream, "stream-hello"},
	} {
		t.Run(tc.attr, func(t *testing.T) {
			src := built(t, tc.attr)
			if !strings.HasSuffix(src, tc.ext) {
				t.Fatalf("%s built %s, want a name ending in %s", tc.attr, src, tc.ext)
			}
			img, _, d := describe(t, src, image.Options{}, image.Gzip)
			if img.Form != tc.form || d.Form != string(tc.form) {
				t.Errorf("form %s (digests say %s), want %s", img.Form, d.Form, tc.form)
			}
			sameImage(t, tc.attr, ref, d)
			if d.ManifestDigest != ref.ManifestDigest {
				t.Errorf("manifest digest %s, want %s (same layers, same compressor)", d.ManifestDigest, ref.ManifestDigest)
			}
		})
	}
}

// TestStreamFromChrootStore builds the stream script in a separate chroot
// store, whose store paths exist only under its root, and opens it there.
func TestStreamFromChrootStore(t *testing.T) {
	nixtest.Require(t)
	_, _, ref := describe(t, built(t, "image"), image.Options{}, image.None)
	store := nixtest.NewStore(t)
	res := nixtest.Build(t, store, "hello.nix", "stream")
	n := nixtest.Nix(t, store)
	script := n.RealPath(res.Record.OutPath)
	if !strings.HasPrefix(script, store) {
		t.Fatalf("stream script %s is not under the chroot store %s", script, store)
	}
	img, _, d := describe(t, script, image.Options{StoreRoot: nix.StoreRoot(store)}, image.None)
	if img.Form != image.FormStream {
		t.Errorf("form %s, want stream", img.Form)
	}
	sameImage(t, "stream in a chroot store", ref, d)
}

// TestOCILayoutAndRegistry writes the described image as an OCI layout and
// pushes it to an in-process registry; both open with the same digests.
func TestOCILayoutAndRegistry(t *testing.T) {
	nixtest.Require(t)
	_, pub, ref := describe(t, built(t, "image"), image.Options{}, image.Gzip)

	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(pub); err != nil {
		t.Fatalf("writing OCI layout: %v", err)
	}
	img, _, d := describe(t, dir, image.Options{}, image.Gzip)
	if img.Form != image.FormOCILayout {
		t.Errorf("form %s, want oci-layout", img.Form)
	}
	sameImage(t, "oci-layout", ref, d)
	if d.ManifestDigest != ref.ManifestDigest {
		t.Errorf("oci-layout manifest %s, want %s", d.ManifestDigest, ref.ManifestDigest)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(nullLogger())))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	tag, err := name.ParseReference(host + "/nixdock/hello:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, pub); err != nil {
		t.Fatalf("pushing: %v", err)
	}
	for _, src := range []string{host + "/nixdock/hello@" + ref.ManifestDigest, host + "/nixdock/hello:1.0"} {
		img, _, d := describe(t, src, image.Options{}, image.Gzip)
		if img.Form != image.FormRegistry {
			t.Errorf("%s: form %s, want registry", src, img.Form)
		}
		sameImage(t, src, ref, d)
		if d.ManifestDigest != ref.ManifestDigest {
			t.Errorf("%s: manifest %s, want %s", src, d.ManifestDigest, ref.ManifestDigest)
		}
	}
}

// TestDescribeCompressions: each compression gives the same digests twice,
// media types that name it, and Compressed() bytes that hash to the digest.
func TestDescribeCompressions(t *testing.T) {
	nixtest.Require(t)
	src := built(t, "image")
	manifests := map[string]image.Compression{}
	for _, c := range []image.Compression{image.Gzip, image.Zstd, image.None} {
		t.Run(string(c), func(t *testing.T) {
			_, pub, a := describe(t, src, image.Options{}, c)
			_, _, b := describe(t, src, image.Options{}, c)
			if a.ManifestDigest != b.ManifestDigest {
				t.Fatalf("two descriptions differ: %s and %s", a.ManifestDigest, b.ManifestDigest)
			}
			if a.Compressor.Name != string(c) {
				t.Errorf("compressor %q, want %q", a.Compressor.Name, c)
			}
			if prev, ok := manifests[a.ManifestDigest]; ok {
				t.Errorf("%s and %s give the same manifest digest", prev, c)
			}
			manifests[a.ManifestDigest] = c
			checkLayers(t, pub, a, c)
		})
	}
}

func checkLayers(t *testing.T, pub v1.Image, d image.Digests, c image.Compression) {
	t.Helper()
	layers, err := pub.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		want := d.Layers[i]
		wantType := map[image.Compression]string{
			image.Gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
			image.Zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
			image.None: "application/vnd.oci.image.layer.v1.tar",
		}[c]
		if want.MediaType != wantType {
			t.Errorf("layer %d media type %s, want %s", i, want.MediaType, wantType)
		}
		digest, size := hashOf(t, l.Compressed)
		if digest != want.Digest || size != want.Size {
			t.Errorf("layer %d: Compressed() is %s (%d bytes), manifest says %s (%d bytes)", i, digest, size, want.Digest, want.Size)
		}
		diffID, usize := hashOf(t, l.Uncompressed)
		if diffID != want.DiffID || usize != want.UncompressedSize {
			t.Errorf("layer %d: Uncompressed() is %s (%d bytes), want %s (%d bytes)", i, diffID, usize, want.DiffID, want.UncompressedSize)
		}
		if c == image.None && want.Digest != want.DiffID {
			t.Errorf("layer %d: uncompressed digest %s differs from diff_id %s", i, want.Digest, want.DiffID)
		}
	}
}

func hashOf(t *testing.T, open func() (io.ReadCloser, error)) (string, int64) {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n
}
