package verify_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/hostile"
	"github.com/nixdock/nixdock-action/verify"
)

// peakHeap runs f and returns the largest HeapInuse seen while it ran
// (sampled every 5 ms), above the heap in use before it started.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	if peak < base {
		return 0
	}
	return peak - base
}

// benchDiffMemory diffs two generated archives and reports the peak heap;
// it fails past limit bytes.
func benchDiffMemory(b *testing.B, gen func(path string, seed int64) error, limit uint64) {
	benchDiffMemoryPair(b, gen, gen, limit)
}

// benchDiffMemoryPair is benchDiffMemory with A and B from two generators.
func benchDiffMemoryPair(b *testing.B, genA, genB func(path string, seed int64) error, limit uint64) {
	dir := b.TempDir()
	a, c := filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.gz")
	if err := genA(a, 1); err != nil {
		b.Fatal(err)
	}
	if err := genB(c, 2); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		var rep *verify.Report
		var err error
		peak := peakHeap(func() {
			var ia, ib *image.Image
			if ia, err = image.Open(ctx, a, image.Options{TempDir: dir}); err != nil {
				return
			}
			defer ia.Close()
			if ib, err = image.Open(ctx, c, image.Options{TempDir: dir}); err != nil {
				return
			}
			defer ib.Close()
			rep, err = verify.Images(ctx, ia, ib, verify.Options{})
		})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Reproducible || rep.Truncated == 0 {
			b.Fatalf("reproducible %v, truncated %d: want every entry to differ", rep.Reproducible, rep.Truncated)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		if peak > limit {
			b.Fatalf("peak heap %d MiB, want at most %d MiB", peak>>20, limit>>20)
		}
	}
}

// BenchmarkDiffMillionEntries: two archives of a million entries each, every
// entry differing (mtime), diff in at most 300 MB (issue: 1.67 GB).
//
//	go test -run '^$' -bench DiffMillionEntries -benchtime 1x ./verify/
func BenchmarkDiffMillionEntries(b *testing.B) {
	benchDiffMemory(b, func(p string, seed int64) error { return hostile.WriteManyArchive(p, 1000000, seed) }, 300<<20)
}

// BenchmarkDiffMillionReversed: the million entries of A listed in B
// backwards, so that every entry waits for its match (in the pending store
// on disk), in at most 300 MB (before: proportional to the entries in
// memory).
//
//	go test -run '^$' -bench DiffMillionReversed -benchtime 1x ./verify/
func BenchmarkDiffMillionReversed(b *testing.B) {
	benchDiffMemoryPair(b,
		func(p string, seed int64) error { return hostile.WriteManyArchive(p, 1000000, seed) },
		func(p string, seed int64) error { return hostile.WriteReversedArchive(p, 1000000, seed) },
		300<<20)
}

// BenchmarkDiffMillionMoved: B holds A's million entries in two layers,
// so half of them moved to a layer of their own and are matched across
// layer pairs.
//
//	go test -run '^$' -bench DiffMillionMoved -benchtime 1x ./verify/
func BenchmarkDiffMillionMoved(b *testing.B) {
	benchDiffMemoryPair(b,
		func(p string, seed int64) error { return hostile.WriteManyArchive(p, 1000000, seed) },
		func(p string, seed int64) error { return hostile.WriteSplitArchive(p, 1000000, seed) },
		300<<20)
}

// BenchmarkDiffMillionLabels: two configs of a million labels each, every
// label differing.
func BenchmarkDiffMillionLabels(b *testing.B) {
	benchDiffMemory(b, func(p string, seed int64) error { return hostile.WriteLabelsArchive(p, 1000000, seed) }, 300<<20)
}

// TestDiffManyEntriesCounts: with more differing files than a diff keeps
// in full, the counts stay exact: every file is in the culprit's files or
// its MoreFiles, and every difference in Differences or Truncated.
func TestDiffManyEntriesCounts(t *testing.T) {
	dir := t.TempDir()
	const n = 30000 // more than a diff keeps in full
	paths := [2]string{filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.gz")}
	var imgs [2]*image.Image
	for i, p := range paths {
		if err := hostile.WriteManyArchive(p, n, int64(i+1)); err != nil {
			t.Fatal(err)
		}
		img, err := image.Open(context.Background(), p, image.Options{TempDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		imgs[i] = img
	}
	rep, err := verify.Images(context.Background(), imgs[0], imgs[1], verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Culprits) != 1 {
		t.Fatalf("%d culprits, want the one store path", len(rep.Culprits))
	}
	c := rep.Culprits[0]
	if got := len(c.FileDiffs) + c.MoreFiles; got != n+1 { // the files and their directory
		t.Errorf("files %d + more %d = %d, want %d", len(c.FileDiffs), c.MoreFiles, got, n+1)
	}
	entries := 0
	for _, d := range rep.Differences {
		if d.Kind == "entry" {
			entries++
		}
	}
	if got := entries + rep.Truncated; got != n+1 {
		t.Errorf("entry differences %d + truncated %d = %d, want %d", entries, rep.Truncated, got, n+1)
	}
	if len(c.Causes) == 0 || c.Causes[0] != verify.CauseTimestamp {
		t.Errorf("causes %v, want timestamp", c.Causes)
	}
}

// TestDiffMovedEntries: half the files of A's one layer are in a second
// layer of B. They are matched across the layer pairs (from the pairs'
// stores on disk): every file differs in its mtime only, none is reported
// missing.
func TestDiffMovedEntries(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	paths := [2]string{filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.gz")}
	if err := hostile.WriteManyArchive(paths[0], n, 1); err != nil {
		t.Fatal(err)
	}
	if err := hostile.WriteSplitArchive(paths[1], n, 2); err != nil {
		t.Fatal(err)
	}
	var imgs [2]*image.Image
	for i, p := range paths {
		img, err := image.Open(context.Background(), p, image.Options{TempDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		imgs[i] = img
	}
	rep, err := verify.Images(context.Background(), imgs[0], imgs[1], verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]int{}
	for _, d := range rep.Differences {
		if d.Kind == "entry" {
			fields[d.Field]++
		}
	}
	if fields["mtime"]+rep.Truncated != n+1 || len(fields) != 1 {
		t.Errorf("entry differences by field %v (+%d truncated), want %d mtime differences only", fields, rep.Truncated, n+1)
	}
	var moved int
	for _, c := range rep.Culprits {
		for _, f := range c.FileDiffs {
			if strings.HasPrefix(f.Path, "/nix/store/") {
				moved++
			}
		}
		moved += c.MoreFiles
	}
	if moved != n+1 {
		t.Errorf("%d files in the culprits, want %d", moved, n+1)
	}
}
