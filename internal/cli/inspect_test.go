package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/testimage"
)

// inspectArchive writes a docker-archive of layers (each a tar of one
// file) with diffIDs in the config (nil: the true ones) and extra members.
func inspectArchive(t *testing.T, layers []string, diffIDs []string, noConfig bool, extra map[string]string) []byte {
	t.Helper()
	a := testimage.Archive{DiffIDs: diffIDs, NoConfig: noConfig, Extra: extra}
	for _, content := range layers {
		a.Layers = append(a.Layers, testimage.Layer(t, testimage.Entry{Name: "nix/store/x/file", Body: content, Mode: 0o644, Type: tar.TypeReg}))
	}
	data, err := os.ReadFile(a.Write(t, filepath.Join(t.TempDir(), "image.tar")))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestInspectArchive(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "good.tar")
	os.WriteFile(src, inspectArchive(t, []string{"one\n", "two\n"}, nil, false, nil), 0o644)
	code, stdout, stderr := runCLI(t, "inspect", src, "--json", "--compression", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep inspectReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	if rep.Schema != InspectSchema || rep.Image.Form != "docker-archive" || len(rep.Image.Layers) != 2 {
		t.Errorf("report %+v", rep)
	}
	for _, l := range rep.Image.Layers {
		if l.Digest != l.DiffID {
			t.Errorf("uncompressed layer digest %s differs from its diff_id %s", l.Digest, l.DiffID)
		}
	}
	code, text, _ := runCLI(t, "inspect", src)
	if code != 0 || !strings.Contains(text, rep.Image.ConfigDigest) || !strings.Contains(text, "gzip") {
		t.Errorf("text output (exit %d) lacks the config digest or compressor:\n%s", code, text)
	}
}

// TestInspectBadInput: every bad archive exits 3 with one line naming it.
func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	good := inspectArchive(t, []string{"one\n"}, nil, false, nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	tampered := bytes.Replace(good, []byte("one\n"), []byte("ONE\n"), 1)
	cases := map[string][]byte{
		"tampered.tar":  tampered,
		"noconfig.tar":  inspectArchive(t, []string{"one\n"}, nil, true, nil),
		"escape.tar":    inspectArchive(t, []string{"one\n"}, nil, false, map[string]string{"../x": "x"}),
		"absolute.tar":  inspectArchive(t, []string{"one\n"}, nil, false, map[string]string{"/etc/x": "x"}),
		"count.tar":     inspectArchive(t, []string{"one\n"}, []string{"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("b", 64)}, false, nil),
		"notimage.txt":  []byte("hello\n"),
		"truncated.tgz": gz.Bytes()[:gz.Len()/2],
	}
	for name, data := range cases {
		src := filepath.Join(dir, name)
		os.WriteFile(src, data, 0o644)
		code, stdout, stderr := runCLI(t, "inspect", src)
		if code != ExitFailure {
			t.Errorf("%s: exit %d, want 3\n%s", name, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%s: printed %q on stdout", name, stdout)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "nixdock: error: ") || !strings.Contains(stderr, src) {
			t.Errorf("%s: stderr is not one error line naming the file: %q", name, stderr)
		}
	}
	if code, _, _ := runCLI(t, "inspect"); code != ExitUsage {
		t.Errorf("inspect without an image: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, "inspect", filepath.Join(dir, "notimage.txt"), "--compression", "lz4"); code != ExitUsage {
		t.Errorf("--compression lz4: exit %d, want 2", code)
	}
}
