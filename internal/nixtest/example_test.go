package nixtest_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nixdock/nixdock-action/internal/cli"
	"github.com/nixdock/nixdock-action/internal/nixtest"
)

// TestExample builds the demo's example (testdata/nix/example.nix -A image)
// in two chroot stores, checks that both builds give the same image, that
// nixdock lint finds nothing, and runs the image's command in a chroot of
// its unpacked layers, as its configured user. The host's gcc must be
// able to link statically (Debian: gcc, libc6-dev).
func TestExample(t *testing.T) {
	nixtest.Require(t)
	nixtest.RequireTool(t, "gcc") // the builder runs the host's, through the sandbox paths
	storeA, storeB := nixtest.NewStore(t), nixtest.NewStore(t)
	a := nixtest.Build(t, storeA, "example.nix", "image")
	b := nixtest.Build(t, storeB, "example.nix", "image")
	if a.Record.OutPath != b.Record.OutPath {
		t.Errorf("out paths differ: %s, %s", a.Record.OutPath, b.Record.OutPath)
	}
	da, db := a.Record.Image, b.Record.Image
	if da.ManifestDigest != db.ManifestDigest || da.ConfigDigest != db.ConfigDigest {
		t.Errorf("not reproducible: manifest %s / %s, config %s / %s",
			da.ManifestDigest, db.ManifestDigest, da.ConfigDigest, db.ConfigDigest)
	}
	if len(da.Layers) != 3 {
		t.Errorf("layers = %d, want 3 (hello, greeting-data, root)", len(da.Layers))
	}

	file := filepath.Join(storeA, a.Record.OutPath)
	var out, errb bytes.Buffer
	if code := cli.Main(context.Background(), []string{"lint", file}, &out, &errb); code != 0 {
		t.Errorf("nixdock lint %s: exit %d\n%s%s", file, code, out.String(), errb.String())
	}

	requireRoot(t)
	cfg, err := a.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := unpack(t, a.Image)
	argv := append(append([]string{}, cfg.Config.Entrypoint...), cfg.Config.Cmd...)
	got, stderr, err := runIn(t, root, cfg.Config, argv)
	want := "Hello, world!\nhello 1.0\n"
	if err != nil || got != want {
		t.Errorf("%q in the image: %v, printed %q (stderr %q), want %q", argv, err, got, stderr, want)
	}

	// The user needs the root layer's world-writable /tmp (lint's
	// runtime-tmp): without it the program fails.
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = runIn(t, root, cfg.Config, argv)
	if err == nil || !strings.Contains(stderr, "cannot create a temporary file") {
		t.Errorf("with /tmp 0755: %v, stderr %q; want a failure to create a temporary file", err, stderr)
	}
}

// requireRoot skips t unless it runs as root (chroot needs it), or fails
// it under NIXDOCK_REQUIRE_NIX=1.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		nixtest.RequireTool(t, "chroot")
		return
	}
	if os.Getenv("NIXDOCK_REQUIRE_NIX") == "1" {
		t.Fatal("running the example needs root (chroot), and NIXDOCK_REQUIRE_NIX=1")
	}
	t.Skip("running the example needs root (chroot)")
}

// runIn runs argv in a chroot of root as the config's User (names looked
// up in the image's /etc/passwd and /etc/group, as a runtime does), with
// only the config's Env, and returns its stdout and stderr.
func runIn(t *testing.T, root string, cfg v1.Config, argv []string) (string, string, error) {
	t.Helper()
	if len(argv) == 0 {
		t.Fatal("the config has no Entrypoint or Cmd")
	}
	uid, gid := resolveUser(t, root, cfg.User)
	// chroot starts the program in "/"; other working directories would need
	// a shell in the image.
	if wd := cfg.WorkingDir; wd != "" && wd != "/" {
		t.Fatalf("WorkingDir %q: only / is supported here", wd)
	}
	args := append([]string{"--userspec=" + uid + ":" + gid, root}, argv...)
	cmd := exec.Command("chroot", args...)
	cmd.Env = cfg.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("chroot %q: %w", args, err)
	}
	return stdout.String(), stderr.String(), err
}

// resolveUser turns User ("name", "name:group", numeric ids) into ids.
func resolveUser(t *testing.T, root, user string) (uid, gid string) {
	t.Helper()
	if user == "" {
		return "0", "0"
	}
	name, group, hasGroup := strings.Cut(user, ":")
	uid, gid = lookup(t, filepath.Join(root, "etc", "passwd"), name, 2, 3)
	if hasGroup {
		gid, _ = lookup(t, filepath.Join(root, "etc", "group"), group, 2, 2)
	}
	return uid, gid
}

// lookup finds name in a passwd-style file and returns fields a and b;
// a number is its own id.
func lookup(t *testing.T, file, name string, a, b int) (string, string) {
	t.Helper()
	if name != "" && strings.Trim(name, "0123456789") == "" {
		return name, name
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("looking up %q: %v", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > b && fields[0] == name {
			return fields[a], fields[b]
		}
	}
	t.Fatalf("%q is not in the image's %s", name, file)
	return "", ""
}

// unpack applies the image's layers in order into a new directory, as a
// runtime does: whiteouts remove, later layers overwrite, modes (sticky bit
// included) and owners as recorded.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nixdock-example-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nixtest.RemoveStore(dir) })
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		err = applyLayer(dir, tar.NewReader(rc))
		rc.Close()
		if err != nil {
			t.Fatalf("applying layer %d: %v", i, err)
		}
	}
	return dir
}

func applyLayer(root string, tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := applyEntry(root, hdr, tr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

// within maps a path in the image to one under root. Cleaning the name as
// an absolute path drops any leading "..", and a parent that is a symlink is
// refused, so that no entry is written outside root (this runs as root).
func within(root, name string) (string, error) {
	clean := path.Clean("/" + name)
	target := filepath.Join(root, filepath.FromSlash(clean))
	for dir := filepath.Dir(target); len(dir) > len(root); dir = filepath.Dir(dir) {
		if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("path goes through the symlink %s", dir)
		}
	}
	return target, nil
}

func applyEntry(root string, hdr *tar.Header, r io.Reader) error {
	target, err := within(root, hdr.Name)
	if err != nil {
		return err
	}
	base := filepath.Base(target)
	if base == ".wh..wh..opq" {
		return clearDir(filepath.Dir(target))
	}
	if strings.HasPrefix(base, ".wh.") {
		return os.RemoveAll(filepath.Join(filepath.Dir(target), strings.TrimPrefix(base, ".wh.")))
	}
	if hdr.Typeflag != tar.TypeDir {
		if err := os.RemoveAll(target); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	case tar.TypeReg:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		return os.Symlink(hdr.Linkname, target)
	case tar.TypeLink:
		src, err := within(root, hdr.Linkname)
		if err != nil {
			return err
		}
		return os.Link(src, target)
	default:
		return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
	}
	if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	// After chown, which clears set-id bits; fs.FileMode carries the sticky bit.
	return os.Chmod(target, hdr.FileInfo().Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid))
}

func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
