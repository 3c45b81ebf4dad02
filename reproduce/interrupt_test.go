package reproduce_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/reproduce"
)

// TestInterruptRemovesBuildDirs: cancelling reproduce (what SIGINT does)
// while Nix builds leaves nothing in TMPDIR, the build directory of the
// killed build included, and returns promptly.
func TestInterruptRemovesBuildDirs(t *testing.T) {
	nixtest.Require(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := reproduce.Run(ctx, reproduce.Options{
			Installable: record.Installable{File: nixtest.File("slow.nix"), Attr: "slow"},
			NixOptions:  nixtest.Options,
			Log:         testLog{t},
		})
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m, _ := filepath.Glob(filepath.Join(tmp, "nixdock-reproduce-*", "tmp-a", "nix-build-*", "started"))
		if len(m) > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("reproduce ended before its build started: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow build did not start within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("an interrupted reproduce succeeded")
		}
	case <-time.After(45 * time.Second):
		t.Fatal("reproduce still running 45 s after it was interrupted")
	}
	t.Logf("stopped %v after the interrupt", time.Since(start))
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left in TMPDIR after the interrupt: %s", e.Name())
	}
}
