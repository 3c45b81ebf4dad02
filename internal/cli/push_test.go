package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/gen"
)

// dirSize is the bytes stored under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// TestPushRegistryDies kills a real registry (Debian's docker-registry,
// started by this test on a free port) while a push is sending blobs: the
// push fails with exit 3 and an error naming the blob; with the registry
// back (same storage), the rerun completes and prints the same digest.
func TestPushRegistryDies(t *testing.T) {
	reg := startRealRegistry(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "big.tar")
	if _, err := gen.WriteFile(archive, gen.Options{Size: 96 << 20, Paths: 8, Layers: 4, Compressible: 0, Seed: "dies", DifferFile: -1, TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	dst := reg.addr + "/nixdock-test/dies:v1"

	// Kill the registry once 8 MiB of uploads have reached its storage.
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if dirSize(filepath.Join(reg.dir, "data")) > 8<<20 {
				once.Do(reg.kill)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	first := pubRun(t, "push", archive, dst, "--compression", "gzip")
	cancel()
	wg.Wait()
	if first.code != 3 {
		t.Fatalf("push to a dying registry: exit %d, want 3", first.code)
	}
	if !regexp.MustCompile(`uploading blob sha256:[0-9a-f]{64} \(layer \d of 4, \d+ bytes\)`).MatchString(first.errOut) {
		t.Fatalf("the error does not name the blob: %q", first.errOut)
	}
	if n := strings.Count(strings.TrimSpace(first.errOut), "nixdock: error:"); n != 1 {
		t.Errorf("%d error lines, want one", n)
	}

	reg.start()
	second := pubRun(t, "push", archive, dst, "--compression", "gzip")
	if second.code != 0 || !strings.HasPrefix(second.lastLine(), reg.addr+"/nixdock-test/dies@sha256:") {
		t.Fatalf("rerun: exit %d, last line %q", second.code, second.lastLine())
	}
	third := pubRun(t, "push", archive, fmt.Sprintf("%s/nixdock-test/dies:v2", reg.addr), "--compression", "gzip")
	if third.lastLine() != second.lastLine() {
		t.Errorf("digests differ between pushes: %s vs %s", second.lastLine(), third.lastLine())
	}
}

// failingWriter fails every write, as stdout does when its pipe is closed.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestResultWriteFailure: a command whose result line cannot be written
// (a closed pipe) fails, never exits 0 as if the caller had read it.
func TestResultWriteFailure(t *testing.T) {
	t.Setenv("COSIGN_PASSWORD", "x")
	var stderr bytes.Buffer
	prefix := filepath.Join(t.TempDir(), "k")
	code := Main(context.Background(), []string{"keygen", "--output-key-prefix", prefix}, failingWriter{}, &stderr)
	if code != ExitFailure || !strings.Contains(stderr.String(), "writing the result to stdout") {
		t.Errorf("keygen with a broken stdout: exit %d, %q", code, stderr.String())
	}
}
