package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckBuild runs build-hashes.sh on a build directory as the builder
// does, then check-build.sh on copies as verify does: the copy passes, a
// changed record, a changed or extra image file and a missing image fail.
func TestCheckBuild(t *testing.T) {
	write := func(dir string, files map[string]string) {
		for name, data := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	build := map[string]string{
		"record.json":             `{"outPath":"/nix/store/x"}`,
		"image/index.json":        `{"manifests":[]}`,
		"image/oci-layout":        `{}`,
		"image/blobs/sha256/abcd": "layer",
		"sbom.spdx.json":          "{}",
	}
	dir := t.TempDir()
	write(dir, build)
	out, err := exec.Command(filepath.Join(repoRoot(), "action", "build-hashes.sh"), dir).Output()
	if err != nil {
		t.Fatalf("build-hashes.sh: %v", err)
	}
	var record, image string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "record-sha256":
			record = v
		case "image-sha256":
			image = v
		default:
			t.Errorf("unexpected output line %q", l)
		}
	}
	if len(record) != 64 || len(image) != 64 {
		t.Fatalf("build-hashes.sh wrote %q", out)
	}
	cases := []struct {
		name   string
		change func(dir string)
		ok     bool
	}{
		{"the same files", func(string) {}, true},
		{"another record", func(d string) { write(d, map[string]string{"record.json": `{"outPath":"/nix/store/y"}`}) }, false},
		{"a changed layer", func(d string) { write(d, map[string]string{"image/blobs/sha256/abcd": "layeR"}) }, false},
		{"an extra image file", func(d string) { write(d, map[string]string{"image/blobs/sha256/ef": "x"}) }, false},
		{"a renamed image file", func(d string) {
			if err := os.Rename(filepath.Join(d, "image/oci-layout"), filepath.Join(d, "image/oci-layout2")); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"no image", func(d string) { _ = os.RemoveAll(filepath.Join(d, "image")) }, false},
		{"no record", func(d string) { _ = os.Remove(filepath.Join(d, "record.json")) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			write(d, build)
			c.change(d)
			out, err := exec.Command(filepath.Join(repoRoot(), "action", "check-build.sh"), "build A", d, record, image).CombinedOutput()
			if (err == nil) != c.ok {
				t.Errorf("check-build.sh: err %v, want ok %v\n%s", err, c.ok, out)
			}
			if !c.ok && !strings.HasPrefix(string(out), "::error title=nixdock: build A::") {
				t.Errorf("failure is not one error annotation naming the build: %q", out)
			}
		})
	}
	// A builder that never set its outputs (it failed) is refused.
	if out, err := exec.Command(filepath.Join(repoRoot(), "action", "check-build.sh"), "build B", dir, "", image).CombinedOutput(); err == nil {
		t.Errorf("check-build.sh accepted an empty record hash: %s", out)
	}
}
