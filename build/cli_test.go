package build_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/cli"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
)

// nixdock runs the CLI in-process and returns its exit code and output.
func nixdock(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// offline are the --nix-option flags of nixtest.Options.
func offline() []string {
	var args []string
	for _, o := range nixtest.Options {
		args = append(args, "--nix-option", o.Name+"="+o.Value)
	}
	return args
}

// buildRecord runs `nixdock build ARGS --record FILE` and reads the record.
func buildRecord(t *testing.T, args ...string) *record.Record {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.json")
	args = append(append(append([]string{"build"}, args...), offline()...), "--record", path)
	code, _, stderr := nixdock(t, args...)
	if code != 0 {
		t.Fatalf("nixdock %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	rec, err := record.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// layerDigests reads a docker-archive with archive/tar alone and returns the
// sha256 of each layer file manifest.json names, in order.
func layerDigests(t *testing.T, archive string) []string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	var manifest []struct{ Layers []string }
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				t.Fatal(err)
			}
			continue
		}
		h := sha256.New()
		io.Copy(h, tr)
		sums[hdr.Name] = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	if len(manifest) != 1 {
		t.Fatalf("manifest.json lists %d images", len(manifest))
	}
	var out []string
	for _, l := range manifest[0].Layers {
		out = append(out, sums[l])
	}
	return out
}

func diffIDs(r *record.Record) []string {
	var ids []string
	for _, l := range r.Image.Layers {
		ids = append(ids, l.DiffID)
	}
	return ids
}

// TestBuildRecord: the record's diff_ids are the sha256 of the layer tars in
// the archive Nix built, and its closure is `nix-store -qR` of the image.
func TestBuildRecord(t *testing.T) {
	nixtest.Require(t)
	rec := buildRecord(t, "-f", nixtest.File("hello.nix"), "-A", "image")
	if rec.Schema != record.Schema || !strings.HasSuffix(rec.DrvPath, ".drv") || rec.NixVersion == "" || rec.System == "" {
		t.Errorf("record header: schema %q drv %q nix %q system %q", rec.Schema, rec.DrvPath, rec.NixVersion, rec.System)
	}
	want := layerDigests(t, rec.OutPath)
	if got := diffIDs(rec); strings.Join(got, " ") != strings.Join(want, " ") || len(got) < 2 {
		t.Errorf("record diff_ids\n %v\narchive layers hash to\n %v", got, want)
	}
	out, err := exec.Command("nix-store", "-qR", rec.OutPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	wantPaths := strings.Fields(string(out))
	sort.Strings(wantPaths)
	var gotPaths []string
	for _, p := range rec.Closure {
		gotPaths = append(gotPaths, p.Path)
		if !strings.HasPrefix(p.NarHash, "sha256:") || len(p.NarHash) != 71 || p.NarSize <= 0 {
			t.Errorf("%s: narHash %q narSize %d", p.Path, p.NarHash, p.NarSize)
		}
	}
	if strings.Join(gotPaths, " ") != strings.Join(wantPaths, " ") {
		t.Errorf("closure\n %v\nnix-store -qR says\n %v", gotPaths, wantPaths)
	}
	if _, ok := rec.Derivations[rec.DrvPath]; !ok {
		t.Errorf("derivations do not include the image's %s", rec.DrvPath)
	}
}

// TestBuildTwoStores: two builds in separate chroot stores give the same
// manifest, config and diff_ids; an image with a build date does not.
func TestBuildTwoStores(t *testing.T) {
	nixtest.Require(t)
	build2 := func(file, attr string) (*record.Record, *record.Record) {
		a := buildRecord(t, "-f", nixtest.File(file), "-A", attr, "--store", nixtest.NewStore(t))
		b := buildRecord(t, "-f", nixtest.File(file), "-A", attr, "--store", nixtest.NewStore(t))
		if a.DrvPath != b.DrvPath {
			t.Fatalf("%s -A %s: two stores evaluated different derivations %s and %s", file, attr, a.DrvPath, b.DrvPath)
		}
		return a, b
	}
	a, b := build2("hello.nix", "image")
	if a.Image.ManifestDigest != b.Image.ManifestDigest || a.Image.ConfigDigest != b.Image.ConfigDigest ||
		strings.Join(diffIDs(a), " ") != strings.Join(diffIDs(b), " ") {
		t.Errorf("hello image differs between stores:\n %+v\n %+v", a.Image, b.Image)
	}
	if a.Store == b.Store || a.Store == "" {
		t.Errorf("records name stores %q and %q, want two different chroot stores", a.Store, b.Store)
	}
	a, b = build2("unreproducible.nix", "date")
	if strings.Join(diffIDs(a), " ") == strings.Join(diffIDs(b), " ") {
		t.Errorf("an image with a build date has the same diff_ids in two stores: %v", diffIDs(a))
	}
}

// TestBuildFailure: a failing builder exits 3 with Nix's error and the
// command that failed on one line of nixdock's own.
func TestBuildFailure(t *testing.T) {
	nixtest.Require(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "broken.nix")
	os.WriteFile(file, []byte(`{ image = derivation {
  name = "broken"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "for i in 1 2 3 4 5 6 7 8; do echo early-log-$i >&2; done; echo the-builder-says-boom >&2; exit 1" ];
}; }`), 0o644)
	args := append([]string{"build", "-f", file, "-A", "image"}, offline()...)
	code, stdout, stderr := nixdock(t, args...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	// The command is shell-quoted (substituters '' is an empty value) and
	// the message is Nix's error and the end of the builder's log, not
	// its progress lines or the start of the log.
	for _, want := range []string{"nixdock: error:", "nix build", file, "substituters ''", "error: builder for", "the-builder-says-boom"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
	// Nix's log streams to stderr first; the error message is what follows.
	_, msg, _ := strings.Cut(stderr, "nixdock: error:")
	for _, not := range []string{"early-log-1", "building '"} {
		if strings.Contains(msg, not) {
			t.Errorf("the error message contains %q:\n%s", not, msg)
		}
	}
}

// TestBuildUsage: mistakes on the command line exit 2.
func TestBuildUsage(t *testing.T) {
	for _, args := range [][]string{
		{"build"},
		{"build", ".#image", "-f", "x.nix"},
		{"build", "path:/tmp/x"},
		{"build", "-f", "x.nix", "--nix-option", "novalue"},
		{"build", "-f", "x.nix", "--compression", "bzip2"},
	} {
		if code, _, stderr := nixdock(t, args...); code != 2 {
			t.Errorf("nixdock %v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}

// TestBuildFlake: a flake reference (path:DIR#image) builds the same image
// as the classic form, offline, from a flake with no inputs.
func TestBuildFlake(t *testing.T) {
	nixtest.Require(t)
	// testdata/nix/flake.nix: the test images for each system, evaluated
	// purely (a copy, so that Nix writes nothing into the checkout).
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Dir(nixtest.File("flake.nix")))); err != nil {
		t.Fatal(err)
	}
	flake := buildRecord(t, "path:"+dir+"#image")
	classic := buildRecord(t, "-f", nixtest.File("hello.nix"), "-A", "image")
	if flake.Installable.Flake != "path:"+dir+"#image" {
		t.Errorf("record installable %+v", flake.Installable)
	}
	if flake.DrvPath != classic.DrvPath || flake.Image.ManifestDigest != classic.Image.ManifestDigest {
		t.Errorf("flake built %s (%s), classic %s (%s)", flake.DrvPath, flake.Image.ManifestDigest, classic.DrvPath, classic.Image.ManifestDigest)
	}
}
