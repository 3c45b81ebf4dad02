package image_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nixdock/nixdock-action/image"
)

// TestNoExecRefusesStreamScripts: with NoExec an executable #! file is
// refused before it runs (the marker it would create never appears).
func TestNoExecRefusesStreamScripts(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "PWNED")
	script := filepath.Join(dir, "stream")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := image.Open(context.Background(), script, image.Options{NoExec: true})
	if !errors.Is(err, image.ErrExecRefused) {
		t.Errorf("Open(NoExec) = %v, want ErrExecRefused", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the script ran")
	}
}
