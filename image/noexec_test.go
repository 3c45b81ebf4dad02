package image_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

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

// TestStreamScriptGetsNoSecrets: a stream script the user names runs
// without nixdock's secrets in its environment (here it writes its
// environment to a file, then prints a real archive).
func TestStreamScriptGetsNoSecrets(t *testing.T) {
	dir := t.TempDir()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(archive, name.MustParseReference("example.com/app:latest"), img); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "env")
	script := filepath.Join(dir, "stream")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > "+envFile+"\ncat "+archive+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INPUT_GITHUB-TOKEN", "ghs_secret")
	t.Setenv("COSIGN_PASSWORD", "hunter2")
	t.Setenv("NIXDOCK_TEST_PLAIN", "plain")
	opened, err := image.Open(context.Background(), script, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opened.Close()
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(env), "ghs_secret") || strings.Contains(string(env), "hunter2") {
		t.Errorf("the stream script saw a secret:\n%s", env)
	}
	if !strings.Contains(string(env), "NIXDOCK_TEST_PLAIN=plain") {
		t.Errorf("the stream script lost an ordinary variable:\n%s", env)
	}
}
