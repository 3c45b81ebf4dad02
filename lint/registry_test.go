package lint

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/image"
)

// An image pulled from a registry (gzip layers) lints like an archive.
func TestRegistryImage(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/lint/clean:1"
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, synthImage(t, cleanConfig, cleanLayers()...)); err != nil {
		t.Fatalf("pushing: %v", err)
	}
	img, err := image.Open(context.Background(), ref, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	res, err := Run(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image.Form != "registry" || res.Image.Files != 18 || len(res.Findings) != 0 {
		t.Fatalf("form %s, %d files, findings %v", res.Image.Form, res.Image.Files, ids(res))
	}
}
