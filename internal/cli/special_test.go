package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFORefused: a named pipe given as an image or a record, with no
// writer, is refused at once (exit 3, naming it) instead of blocking.
func TestFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "image.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inspect", fifo},
		{"lint", fifo},
		{"sbom", fifo},
		{"diff", fifo, fifo},
		{"verify", fifo, fifo},
		{"inspect", "/dev/zero"},
	} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			code, _, stderr = runCLI(t, args...)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("nixdock %s blocked", strings.Join(args, " "))
		}
		if code != ExitFailure || !strings.Contains(stderr, args[1]) ||
			!strings.Contains(stderr, "not a regular file") {
			t.Errorf("nixdock %s: exit %d, stderr %q; want exit 3 naming the file as not a regular file", strings.Join(args, " "), code, stderr)
		}
	}
}
