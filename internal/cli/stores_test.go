package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
)

// TestStreamScriptsFromTwoStores: two stream scripts of an unreproducible
// image, built in two chroot stores, each run against its own store. With
// --store naming store A, the old code ran both scripts against A's paths
// and said "reproducible"; now the script in B is read against B (derived
// from its path), or a --store that contradicts its path is an error.
func TestStreamScriptsFromTwoStores(t *testing.T) {
	nixtest.Require(t)
	storeA, storeB := nixtest.NewStore(t), nixtest.NewStore(t)
	a := nixtest.Build(t, storeA, "unreproducible.nix", "dateStream")
	b := nixtest.Build(t, storeB, "unreproducible.nix", "dateStream")
	if a.Record.OutPath != b.Record.OutPath {
		t.Fatalf("the stream scripts' store paths differ: %s, %s", a.Record.OutPath, b.Record.OutPath)
	}
	scriptA, scriptB := filepath.Join(storeA, a.Record.OutPath), filepath.Join(storeB, b.Record.OutPath)
	code, out, errs := runCLI(t, "diff", "--no-nix", scriptA, scriptB)
	if code != ExitDiffers || !strings.Contains(out, "stamp") {
		t.Errorf("diff of the two stores' scripts: exit %d, want %d (differs)\n%s%s", code, ExitDiffers, out, errs)
	}
	code, _, errs = runCLI(t, "diff", "--no-nix", "--store", storeA, scriptA, scriptB)
	if code != 3 || !strings.Contains(errs, "each image is read against its own store") {
		t.Errorf("--store A for B's script: exit %d, want 3 naming the store mismatch\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "diff", "--no-nix", "--store", storeA, "--store", storeB, scriptA, scriptB)
	if code != ExitDiffers {
		t.Errorf("--store per image: exit %d\n%s", code, errs)
	}
	// A copy of B's script outside any store, without --store: its
	// interpreter is not on this machine, and the error says to give the
	// store.
	loose := filepath.Join(t.TempDir(), "stream")
	copyFile(t, scriptB, loose)
	code, _, errs = runCLI(t, "inspect", loose)
	if code != 3 || !strings.Contains(errs, "comes from another store") || !strings.Contains(errs, "--store") {
		t.Errorf("a script from a store not given: exit %d\n%s", code, errs)
	}
	if code, _, errs := runCLI(t, "inspect", "--store", storeB, loose); code != 0 {
		t.Errorf("inspect --store B of the copy: exit %d\n%s", code, errs)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
