package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/record"
)

// TestVerifyRunsNothingARecordNames: records whose out paths are an
// executable #! script (here one that would create a marker file, under
// the record's own chroot store root, and at an absolute path) are not
// run; verify says to pass --image, and still compares the digests.
func TestVerifyRunsNothingARecordNames(t *testing.T) {
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "PWNED")
	script := "#!/bin/sh\ntouch " + marker + "\n"
	drv := "/nix/store/00000000000000000000000000000000-image.tar.drv"
	out := "/nix/store/22222222222222222222222222222222-stream-image"
	var recs []string
	for _, name := range []string{"a", "b"} {
		root := filepath.Join(tmp, "store-"+name)
		if err := os.MkdirAll(filepath.Join(root, "nix", "store"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, out), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		r := testRecord(drv, name)
		r.OutPath, r.Store = out, root
		p := filepath.Join(tmp, name+".json")
		if err := record.Write(p, r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
	}
	code, stdout, errs := runCLI(t, "verify", recs[0], recs[1])
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("verify ran the stream script a record named")
	}
	if code != ExitDiffers || !strings.Contains(stdout, "configDigest") {
		t.Errorf("exit %d, want %d with the digest comparison:\n%s", code, ExitDiffers, stdout)
	}
	if !strings.Contains(errs, "stream script") || !strings.Contains(errs, "--image") {
		t.Errorf("stderr does not say to pass --image: %s", errs)
	}
	// Named on the command line, the same script runs (and, printing no
	// archive, fails): the user chose to run it. (Records without a store,
	// so that it runs without a mount namespace.)
	for i, name := range []string{"c", "d"} {
		r := testRecord(drv, string(rune('a'+i)))
		r.OutPath = out
		recs[i] = filepath.Join(tmp, name+".json")
		if err := record.Write(recs[i], r); err != nil {
			t.Fatal(err)
		}
	}
	code, _, _ = runCLI(t, "verify", recs[0], recs[1], "--image", filepath.Join(tmp, "store-a", out), "--image", filepath.Join(tmp, "store-b", out))
	if _, err := os.Stat(marker); err != nil || code != ExitFailure {
		t.Errorf("--image SCRIPT: exit %d, marker %v; want the named script run", code, err)
	}
}
