package lint

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/hostile"
)

// BenchmarkLintMillionEntries lints an archive of a million files and
// reports the peak heap. lint holds every entry (its rules read the merged
// filesystem): a 112-byte struct, its path and a map slot, about 200
// bytes each; the bound (300 MiB, the issue's) catches a rule that copies
// the model again.
//
//	go test -run '^$' -bench LintMillionEntries -benchtime 1x ./lint/
func BenchmarkLintMillionEntries(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "many.tar.gz")
	if err := hostile.WriteManyArchive(src, 1000000, 1); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		img, err := image.Open(ctx, src, image.Options{TempDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak uint64
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		res, err := Run(ctx, img, Options{})
		close(stop)
		<-done
		img.Close()
		if err != nil {
			b.Fatal(err)
		}
		if res.Image.Files < 1000000 {
			b.Fatalf("linted %d files, want the million", res.Image.Files)
		}
		peak -= min(peak, base.HeapInuse)
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		if peak > 300<<20 {
			b.Fatalf("peak heap %d MiB, want at most 300 MiB", peak>>20)
		}
	}
}

// TestEntrySize: an entry stays within 112 bytes (Go's size class), since
// lint holds one per file of the image.
func TestEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n > 112 {
		t.Errorf("entry is %d bytes, want at most 112", n)
	}
}
