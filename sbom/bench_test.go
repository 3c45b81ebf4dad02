package sbom

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/nixdock/nixdock-action/image"
)

// BenchmarkFromImage reads the image named by NIXDOCK_SBOM_BENCH_IMAGE
// (scripts/bench-sbom generates one); skipped without it.
func BenchmarkFromImage(b *testing.B) {
	src := os.Getenv("NIXDOCK_SBOM_BENCH_IMAGE")
	if src == "" {
		b.Skip("NIXDOCK_SBOM_BENCH_IMAGE is not set")
	}
	for i := 0; i < b.N; i++ {
		img, err := image.Open(context.Background(), src, image.Options{})
		if err != nil {
			b.Fatal(err)
		}
		d, err := FromImage(context.Background(), img, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Encode(SPDXJSON, io.Discard, false); err != nil {
			b.Fatal(err)
		}
		img.Close()
	}
}
