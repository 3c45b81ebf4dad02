package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
)

// With three records whose images are not all on this machine, verify
// still diffs the images it has, down to the culprit store path.
func TestVerifyDiffsTheImagesAtHand(t *testing.T) {
	nixtest.Require(t)
	tmp := t.TempDir()
	var recs []string
	for _, name := range []string{"a", "b", "c"} {
		store := nixtest.NewStore(t)
		res := nixtest.Build(t, store, "unreproducible.nix", "date")
		p := filepath.Join(tmp, name+".json")
		if err := record.Write(p, res.Record); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
		if name == "c" {
			// Builder c's image is gone from this machine.
			img := filepath.Join(store, res.Record.OutPath)
			_ = exec.Command("chmod", "-R", "u+w", filepath.Dir(img)).Run()
			if err := os.Remove(img); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, out, errs := runCLI(t, append([]string{"verify"}, recs...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errs)
	}
	if !strings.Contains(out, "-stamp-1.0") || !strings.Contains(out, "timestamp") {
		t.Errorf("report does not name the stamp store path and its cause:\n%s", out)
	}
	if !strings.Contains(errs, "record 3") {
		t.Errorf("stderr does not say record 3's image is missing: %s", errs)
	}
}
