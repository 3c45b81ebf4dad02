package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/n2ctest"
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

// TestNix2containerFromTwoStores: nix2container JSON names store paths;
// two JSON files from two stores are each re-created from their own store
// (derived from where the JSON lies), so an app that differs between the
// stores is found, never hidden by reading both through one store.
func TestNix2containerFromTwoStores(t *testing.T) {
	rootA, rootB := t.TempDir(), t.TempDir()
	a, b := n2ctest.WriteInStore(t, rootA, "built at 1"), n2ctest.WriteInStore(t, rootB, "built at 2")
	code, out, errs := runCLI(t, "diff", "--no-nix", a, b)
	if code != ExitDiffers || !strings.Contains(out, "app-1.0") {
		t.Errorf("diff of nix2container JSON from two stores: exit %d, want %d\n%s%s", code, ExitDiffers, out, errs)
	}
	if code, _, errs := runCLI(t, "diff", "--no-nix", "--store", rootA, a, b); code != 3 || !strings.Contains(errs, "its own store") {
		t.Errorf("one --store for both: exit %d, want 3\n%s", code, errs)
	}
	if code, out, errs := runCLI(t, "diff", "--no-nix", a, a); code != 0 {
		t.Errorf("a JSON with itself: exit %d\n%s%s", code, out, errs)
	}
}
