package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/testimage"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
)

// pushArchive is a docker-archive of n layers, opened.
func pushArchive(t *testing.T, n int) *image.Image {
	t.Helper()
	var a testimage.Archive
	for i := range n {
		a.Layers = append(a.Layers, testimage.Layer(t, testimage.File(fmt.Sprintf("nix/store/%032d-p%d/file", i, i), strings.Repeat(fmt.Sprint(i), 4096))))
	}
	img, err := image.Open(context.Background(), a.Write(t, filepath.Join(t.TempDir(), "image.tar")), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// blobRegistry is an in-process registry that counts blob uploads
// (POSTs that start one) and can refuse them.
func blobRegistry(t *testing.T, refuse bool) (string, *atomic.Int64) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var uploads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
			uploads.Add(1)
			if refuse {
				http.Error(w, "no room", http.StatusInsufficientStorage)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &uploads
}

func hasBlob(t *testing.T, repo name.Repository, d string) bool {
	t.Helper()
	h, err := v1.NewHash(d)
	if err != nil {
		t.Fatal(err)
	}
	l, err := remote.Layer(repo.Digest(h.String()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Size() // a HEAD of the blob
	return err == nil
}

// TestPushImage: every layer is sent while the image is described, the
// manifest last; the pushed image is the one Describe digests, and a
// second push sends nothing again.
func TestPushImage(t *testing.T) {
	host, uploads := blobRegistry(t, false)
	ref, err := name.ParseReference(host + "/octo/app:1")
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	var manifestEarly atomic.Bool
	res, err := PushImage(context.Background(), PushImageRequest{Image: pushArchive(t, 6), Compression: image.Gzip,
		Destination: ref, OnUploaded: func(done int) {
			sent.Store(int64(done))
			if _, err := remote.Head(ref); err == nil {
				manifestEarly.Store(true)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if manifestEarly.Load() {
		t.Error("the manifest was in the registry before every layer was sent")
	}
	if len(res.Digests.Layers) != 6 || res.Digest.String() != res.Digests.ManifestDigest || sent.Load() != 6 {
		t.Fatalf("pushed %s, digests %+v, %d layers sent early", res.Digest, res.Digests, sent.Load())
	}
	got, err := remote.Image(res.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := got.Digest(); h != res.Digest {
		t.Errorf("the registry has %s, want %s", h, res.Digest)
	}
	for _, l := range res.Digests.Layers {
		if !hasBlob(t, ref.Context(), l.Digest) {
			t.Errorf("layer %s is not in the registry", l.Digest)
		}
	}
	// Six layers and the config.
	if n := uploads.Load(); n != 7 {
		t.Errorf("%d blob uploads, want 7", n)
	}
	if _, err := PushImage(context.Background(), PushImageRequest{Image: pushArchive(t, 6), Compression: image.Gzip, Destination: ref}); err != nil {
		t.Fatal(err)
	}
	if n := uploads.Load(); n != 7 {
		t.Errorf("pushing again started %d more uploads, want none", n-7)
	}
}

// TestPushImageRecord: with a record, only the layers the record lists
// (same place, same compressed digest) go out before the manifest check;
// an image whose manifest digest is not the record's is refused with no
// manifest pushed and none of its other layers sent.
func TestPushImageRecord(t *testing.T) {
	host, _ := blobRegistry(t, false)
	ref, err := name.ParseReference(host + "/octo/app:1")
	if err != nil {
		t.Fatal(err)
	}
	img := pushArchive(t, 3)
	_, d, err := image.Describe(context.Background(), img, image.DescribeOptions{Compression: image.Gzip})
	if err != nil {
		t.Fatal(err)
	}
	rec := &record.Record{Image: d}
	rec.Image.Layers = append([]image.Layer(nil), d.Layers...)
	rec.Image.Layers[1].Digest = "sha256:" + strings.Repeat("1", 64)
	rec.Image.ManifestDigest = "sha256:" + strings.Repeat("2", 64)
	_, err = PushImage(context.Background(), PushImageRequest{Image: pushArchive(t, 3), Compression: image.Gzip, Destination: ref, Record: rec})
	var mismatch *RecordMismatchError
	if !errors.As(err, &mismatch) || mismatch.Digest != d.ManifestDigest || mismatch.Compressor != "gzip" {
		t.Fatalf("err %v, want a RecordMismatchError for %s", err, d.ManifestDigest)
	}
	if _, err := remote.Head(ref); err == nil {
		t.Error("the manifest was pushed")
	}
	for i, want := range []bool{true, false, true} {
		if got := hasBlob(t, ref.Context(), d.Layers[i].Digest); got != want {
			t.Errorf("layer %d in the registry: %v, want %v (only the record's layers are sent)", i, got, want)
		}
	}

	// The record's own image: pushed.
	res, err := PushImage(context.Background(), PushImageRequest{Image: pushArchive(t, 3), Compression: image.Gzip, Destination: ref, Record: &record.Record{Image: d}})
	if err != nil || res.Digest.String() != d.ManifestDigest {
		t.Fatalf("pushing the record's image: %v, %v", res, err)
	}
}

// TestPushImageUploadFails: a registry that refuses blobs fails the push
// with an error naming a layer, and no manifest is pushed.
func TestPushImageUploadFails(t *testing.T) {
	host, _ := blobRegistry(t, true)
	ref, err := name.ParseReference(host + "/octo/app:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = PushImage(context.Background(), PushImageRequest{Image: pushArchive(t, 4), Compression: image.Gzip, Destination: ref})
	var blob *sign.BlobError
	if !errors.As(err, &blob) || !strings.HasPrefix(blob.What, "layer ") || !strings.Contains(err.Error(), "of 4") {
		t.Fatalf("err %v, want a BlobError naming a layer", err)
	}
}
