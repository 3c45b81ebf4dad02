package lint

import (
	"archive/tar"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/dockertools"
)

// lintFixture lints one of the real dockerTools archives.
func lintFixture(t *testing.T, name string) (*Result, *image.Image) {
	t.Helper()
	img, err := image.Open(context.Background(), dockertools.Path(t, name), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	res, err := Run(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, img
}

func findingsWith(res *Result, id string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// The README's row for good.tar.zst: lint is clean, though the
// customisation layer carries stdenv's 1980-01-01 mtimes.
func TestDockerToolsGoodIsClean(t *testing.T) {
	res, _ := lintFixture(t, "good")
	if res.Failed() || len(res.Findings) != 0 {
		t.Errorf("good.tar: %d findings, want none: %+v", len(res.Findings), res.Findings)
	}
}

// trapsEnvironment: `Environment` (did you mean `Env`), each missing
// runtime file, and no bloat for tzdata's intact posix -> . link.
func TestDockerToolsTrapsEnvironment(t *testing.T) {
	res, _ := lintFixture(t, "trapsEnvironment")
	keys := findingsWith(res, "config-unknown-key")
	if len(keys) != 1 || keys[0].Location.ConfigKey != "config.Environment" || !strings.Contains(keys[0].Title, `did you mean "Env"`) {
		t.Errorf("config-unknown-key findings %+v, want one for config.Environment suggesting Env", keys)
	}
	text := ""
	for _, f := range res.Findings {
		text += f.ID + " " + f.Title + " " + strings.Join(f.Evidence, " ") + "\n"
	}
	for id, file := range map[string]string{
		"runtime-passwd":   "/etc/passwd",
		"runtime-services": "/etc/protocols",
		"runtime-nsswitch": "/etc/nsswitch.conf",
		"runtime-ca-certs": "/etc/ssl/certs/ca-bundle.crt",
	} {
		fs := findingsWith(res, id)
		if len(fs) != 1 || !strings.Contains(text, file) {
			t.Errorf("want one %s finding naming %s; findings:\n%s", id, file, text)
		}
	}
	if !strings.Contains(text, "/etc/services") {
		t.Errorf("no finding names the missing /etc/services:\n%s", text)
	}
	for _, id := range []string{"size-symlink-loop", "size-duplicate", "hazard-mtime"} {
		if fs := findingsWith(res, id); len(fs) != 0 {
			t.Errorf("false alarm %s: %+v", id, fs)
		}
	}
}

// tzcopy3: the zoneinfo tree copied through posix -> . three levels is one
// finding, with every byte under the copied posix/ counted (read here from
// the layers), naming the link; the symlinkJoin mirror in the
// customisation layer (symlinks only) is not a second finding.
func TestDockerToolsTzcopy3(t *testing.T) {
	res, img := lintFixture(t, "tzcopy3")
	loops := findingsWith(res, "size-symlink-loop")
	if len(loops) != 1 {
		t.Fatalf("%d size-symlink-loop findings, want 1: %+v", len(loops), loops)
	}
	f := loops[0]
	root := f.Location.Path
	if !strings.HasSuffix(root, "-tzdata-copied-L3/share/zoneinfo/posix") {
		t.Errorf("loop at %s, want the copied tree's zoneinfo/posix", root)
	}
	files, bytes, copied := 0, int64(0), int64(0)
	l3 := strings.TrimSuffix(root, "/share/zoneinfo/posix")
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name := "/" + strings.TrimPrefix(h.Name, "/")
			if h.Typeflag == tar.TypeReg && strings.HasPrefix(name, root+"/") {
				files++
				bytes += h.Size
			} else if h.Typeflag == tar.TypeReg && strings.HasPrefix(name, l3+"/") {
				copied += h.Size
			}
		}
		rc.Close()
	}
	if files < 1000 || f.Bytes != bytes {
		t.Errorf("finding says %d bytes; the layers hold %d files, %d bytes under %s", f.Bytes, files, bytes, root)
	}
	ev := strings.Join(f.Evidence, "\n")
	if !strings.Contains(ev, "-tzdata-2024a/share/zoneinfo/posix -> .") || !strings.Contains(f.Title, "3 levels") {
		t.Errorf("the finding does not name the posix -> . link of tzdata or the depth:\n%s\n%s", f.Title, ev)
	}
	if fs := findingsWith(res, "hazard-mtime"); len(fs) != 0 {
		t.Errorf("false alarm hazard-mtime: %+v", fs)
	}
	// The rest of the copied package is tzdata's tree, most of it files
	// under 4 KiB and alias symlinks made files: one finding, every byte.
	dups := findingsWith(res, "size-duplicate")
	if len(dups) != 1 || dups[0].Location.Path != l3 || !strings.HasSuffix(dups[0].Title, "wasted") ||
		!strings.Contains(dups[0].Title, "-tzdata-2024a") || dups[0].Bytes != copied {
		t.Errorf("size-duplicate findings %+v, want %s as a copy of tzdata with %d bytes", dups, l3, copied)
	}
}
