package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/testimage"
)

// Digests from nix2container's own nix/layers_test.go (TestNewLayers and
// TestPerms): the layer of the path "../data/layer1/file1", an empty file
// of mode 0644, as nix2container's NewLayers writes it, without and with
// the perms entry {regex ".*file1", mode "0641"}. Both tars are 3072 bytes.
const (
	upstreamLayer1      = "sha256:cc45bd46eca903b0900ebb997dffd5778904dca9ec02e7375dd1e653dfb61e2e"
	upstreamLayer1Perms = "sha256:adf74a52f9e1bcd7dab77193455fa06743b979cf5955148010e5becedba4f72d"
)

// upstreamTree lays out nix2container's data/layer1 under dir and returns
// the store root under which "../data/layer1/file1" names it.
func upstreamTree(t *testing.T) (root, file string) {
	t.Helper()
	dir := t.TempDir()
	file = filepath.Join(dir, "data", "layer1", "file1")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return filepath.Join(dir, "sub"), file
}

func n2cSum(t *testing.T, paths []N2CPath, root string) (string, int64) {
	t.Helper()
	h := sha256.New()
	cw := &countingWriter{}
	if err := writeN2CTar(io.MultiWriter(h, cw), paths, n2cTarOptions{StoreRoot: root}); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), cw.n
}

func TestN2CTarMatchesUpstreamDigests(t *testing.T) {
	root, _ := upstreamTree(t)
	perms := &N2CPathOptions{Perms: []N2CPerm{{Regex: ".*file1", Mode: "0641"}}}
	for _, tc := range []struct {
		name string
		opts *N2CPathOptions
		want string
	}{{"plain", nil, upstreamLayer1}, {"perms", perms, upstreamLayer1Perms}} {
		t.Run(tc.name, func(t *testing.T) {
			got, size := n2cSum(t, []N2CPath{{Path: "../data/layer1/file1", Options: tc.opts}}, root)
			if got != tc.want || size != 3072 {
				t.Errorf("got %s (%d bytes), nix2container's test expects %s (3072 bytes)", got, size, tc.want)
			}
		})
	}
}

// n2cEntries lists the headers of the layer of paths.
func n2cEntries(t *testing.T, paths []N2CPath, root string) []*tar.Header {
	t.Helper()
	var buf bytes.Buffer
	if err := writeN2CTar(&buf, paths, n2cTarOptions{StoreRoot: root}); err != nil {
		t.Fatal(err)
	}
	var hdrs []*tar.Header
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
	}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(content, "->") {
			if err := os.Symlink(strings.TrimPrefix(content, "->"), p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The rules nix2container applies, each checked on the headers it writes.
func TestN2CTarRules(t *testing.T) {
	root := t.TempDir()
	store := "/nix/store/00000000000000000000000000000000-app"
	writeTree(t, filepath.Join(root, store), map[string]string{
		"bin/app":                    "#!",
		"bin/link":                   "->app",
		"etc/README~nix~case~hack~1": "r",
		"share/secret":               "s",
	})
	paths := []N2CPath{{Path: store, Options: &N2CPathOptions{
		Rewrite:           N2CRewrite{Regex: "^" + store, Repl: ""},
		IgnoreDestination: "^/share$",
		Perms: []N2CPerm{
			{Regex: "/bin/app$", Mode: "0500", UID: 1000, GID: 100, Uname: "app"},
			{Regex: "/bin/app$", OrMode: "0040"},
		},
	}}}
	var got []string
	byName := map[string]*tar.Header{}
	for _, h := range n2cEntries(t, paths, root) {
		got = append(got, h.Name)
		byName[h.Name] = h
		if h.ModTime.Unix() != 1 {
			t.Errorf("%s: mtime %v, want 1970-01-01T00:00:01Z", h.Name, h.ModTime)
		}
	}
	want := []string{"/", "/bin", "/bin/app", "/bin/link", "/etc", "/etc/README"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("entries %q, want %q (rewrite to /, ignoreDestination, case hack, sorted)", got, want)
	}
	app := byName["/bin/app"]
	// The second perms entry matches too: its zero uid/gid win, as upstream.
	if app.Mode != 0o540 || app.Uid != 0 || app.Uname != "app" || app.Gname != "root" {
		t.Errorf("/bin/app: mode %o uid %d uname %s gname %s, want 0540 0 app root", app.Mode, app.Uid, app.Uname, app.Gname)
	}
	if l := byName["/bin/link"]; l.Typeflag != tar.TypeSymlink || l.Mode != 0o777 || l.Linkname != "app" {
		t.Errorf("/bin/link: %+v", l)
	}
	if d := byName["/"]; d.Typeflag != tar.TypeDir || d.Mode != 0o755 || d.Uname != "root" {
		t.Errorf("/: %+v", d)
	}
}

func TestN2CTarWithoutRewriteKeepsStoreDirs(t *testing.T) {
	root := t.TempDir()
	store := "/nix/store/00000000000000000000000000000000-app"
	writeTree(t, filepath.Join(root, store), map[string]string{"f": "x"})
	var got []string
	for _, h := range n2cEntries(t, []N2CPath{{Path: store}}, root) {
		got = append(got, h.Name)
	}
	want := []string{"/", "/nix", "/nix/store", store, store + "/f"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("entries %q, want %q", got, want)
	}
}

func TestN2CTarErrors(t *testing.T) {
	root := t.TempDir()
	for name, paths := range map[string][]N2CPath{
		"missing path":   {{Path: "/nix/store/missing"}},
		"bad rewrite":    {{Path: "/", Options: &N2CPathOptions{Rewrite: N2CRewrite{Regex: "("}}}},
		"bad ignore":     {{Path: "/", Options: &N2CPathOptions{IgnoreDestination: "("}}},
		"bad perms":      {{Path: "/", Options: &N2CPathOptions{Perms: []N2CPerm{{Regex: "["}}}}},
		"bad or mode":    {{Path: "/", Options: &N2CPathOptions{Perms: []N2CPerm{{Regex: ".", OrMode: "-0200"}}}}},
		"mode conflicts": nil,
	} {
		if paths == nil {
			writeTree(t, filepath.Join(root, "a"), map[string]string{"x": "1"})
			writeTree(t, filepath.Join(root, "b"), map[string]string{"x/y": "2"})
			paths = []N2CPath{
				{Path: "/a", Options: &N2CPathOptions{Rewrite: N2CRewrite{Regex: "^/a", Repl: "/r"}}},
				{Path: "/b", Options: &N2CPathOptions{Rewrite: N2CRewrite{Regex: "^/b", Repl: "/r"}}},
			}
		}
		if err := writeN2CTar(io.Discard, paths, n2cTarOptions{StoreRoot: root}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// writeN2CJSON writes an image JSON to dir and returns its path.
func writeN2CJSON(t *testing.T, dir string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "image.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// blobLayer writes a gzipped one-file tar as a layer-path blob under root
// and returns its JSON layer, with the diff_id computed here.
func blobLayer(t *testing.T, root string) map[string]any {
	t.Helper()
	raw := testimage.Layer(t, testimage.Entry{Name: "etc/os-release", Body: "hi", Mode: 0o644, Type: tar.TypeReg})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(filepath.Join(root, "base.tar.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	diffID := sha256.Sum256(raw)
	digest := sha256.Sum256(gz.Bytes())
	return map[string]any{
		"digest": "sha256:" + hex.EncodeToString(digest[:]), "size": gz.Len(),
		"diff_ids":  "sha256:" + hex.EncodeToString(diffID[:]),
		"mediatype": "application/vnd.oci.image.layer.v1.tar+gzip", "layer-path": "/base.tar.gz",
		"History": map[string]any{"created_by": "fromImage"},
	}
}

func upstreamImageJSON(t *testing.T, root string) map[string]any {
	return map[string]any{
		"version": 1, "arch": "amd64", "created": "1970-01-01T00:00:01Z",
		"image-config": map[string]any{"Env": []string{"A=1"}, "Entrypoint": []string{"/bin/app"}},
		"layers": []any{
			blobLayer(t, root),
			map[string]any{
				"digest": upstreamLayer1, "size": 3072, "diff_ids": upstreamLayer1,
				"paths":     []any{map[string]any{"path": "../data/layer1/file1"}},
				"mediatype": "application/vnd.oci.image.layer.v1.tar",
			},
		},
	}
}

func TestOpenNix2container(t *testing.T) {
	root, _ := upstreamTree(t)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	src := writeN2CJSON(t, t.TempDir(), upstreamImageJSON(t, root))
	img, err := Open(context.Background(), src, Options{StoreRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Form != FormNix2container {
		t.Errorf("form %s", img.Form)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" || len(cfg.History) != 2 || cfg.Config.Env[0] != "A=1" ||
		cfg.RootFS.DiffIDs[1].String() != upstreamLayer1 {
		t.Errorf("config %+v", cfg)
	}
	_, d, err := Describe(context.Background(), img, DescribeOptions{Compression: None})
	if err != nil {
		t.Fatal(err)
	}
	if d.Form != "nix2container" || len(d.Layers) != 2 || d.Layers[1].Digest != upstreamLayer1 || d.Layers[1].Size != 3072 {
		t.Errorf("digests %+v", d)
	}
}

func TestOpenNix2containerDetectsChangedLayers(t *testing.T) {
	root, file := upstreamTree(t)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	src := writeN2CJSON(t, t.TempDir(), upstreamImageJSON(t, root))
	// The store path's file is no longer the one nix2container hashed.
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), src, Options{StoreRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	_, _, err = Describe(context.Background(), img, DescribeOptions{Compression: Gzip})
	if !errors.Is(err, ErrBadArchive) || !strings.Contains(err.Error(), "layer 1 re-created") || !strings.Contains(err.Error(), src) {
		t.Fatalf("got %v, want ErrBadArchive naming %s and layer 1", err, src)
	}
}

func TestOpenNix2containerRejects(t *testing.T) {
	dir := t.TempDir()
	layer := func(extra map[string]any) map[string]any {
		l := map[string]any{"digest": upstreamLayer1, "diff_ids": upstreamLayer1, "paths": []any{map[string]any{"path": "/x"}}}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	for name, tc := range map[string]struct {
		json any
		want error
	}{
		"other json":   {map[string]any{"schemaVersion": 2}, ErrNotImage},
		"version 2":    {map[string]any{"version": 2, "layers": []any{}}, ErrBadArchive},
		"bad diff_id":  {map[string]any{"version": 1, "layers": []any{layer(map[string]any{"diff_ids": "x"})}}, ErrBadArchive},
		"tar source":   {map[string]any{"version": 1, "layers": []any{layer(map[string]any{"paths": []any{map[string]any{"path": "/x", "tar": "/y.tar"}}})}}, ErrBadArchive},
		"capabilities": {map[string]any{"version": 1, "layers": []any{layer(map[string]any{"paths": []any{map[string]any{"path": "/x", "options": map[string]any{"capabilities": []any{}}}}})}}, ErrBadArchive},
		"missing blob": {map[string]any{"version": 1, "layers": []any{layer(map[string]any{"layer-path": "/nope.tar"})}}, ErrBadArchive},
		"config types": {map[string]any{"version": 1, "layers": []any{}, "image-config": map[string]any{"Env": "A=1"}}, ErrBadArchive},
	} {
		src := writeN2CJSON(t, dir, tc.json)
		_, err := Open(context.Background(), src, Options{StoreRoot: dir})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), filepath.Join(dir, "bad.json"), Options{}); !errors.Is(err, ErrNotImage) {
		t.Errorf("invalid JSON: got %v, want ErrNotImage", err)
	}
}

// A config-only image (no layers) marshals as nix2container's does.
func TestN2CConfigBlobWithoutLayers(t *testing.T) {
	n, err := ParseNix2Container([]byte(`{"version":1,"layers":[],"arch":"arm64"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.ConfigBlob()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"architecture":"arm64","os":"linux","config":{},"rootfs":{"type":"","diff_ids":null}}`
	if string(got) != want {
		t.Errorf("config %s, want %s", got, want)
	}
}

// FuzzParseNix2Container: any bytes give a parsed image or an error, and a
// parsed image always has a config.
func FuzzParseNix2Container(f *testing.F) {
	f.Add([]byte(`{"version":1,"layers":[{"digest":"` + upstreamLayer1 + `","diff_ids":"` + upstreamLayer1 +
		`","paths":[{"path":"/nix/store/x","options":{"rewrite":{"regex":"^/nix/store/x","repl":""},"perms":[{"regex":".*","mode":"0644"}]}}]}]}`))
	f.Add([]byte(`{"version":1,"layers":[],"image-config":{"Env":["A=1"]},"created":"1970-01-01T00:00:01Z"}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseNix2Container(data)
		if err != nil {
			if !errors.Is(err, ErrNotImage) && !errors.Is(err, ErrBadArchive) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if _, err := n.ConfigBlob(); err != nil {
			t.Fatal(err)
		}
	})
}

// A JSON naming host paths outside the store is refused before anything is
// read (nix2container only names store paths).
func TestNix2containerRefusesHostPaths(t *testing.T) {
	for _, p := range []string{"/", "/etc", "/nix/store/../../etc", "relative/x"} {
		doc := map[string]any{
			"version": N2CVersion, "arch": "amd64", "image-config": map[string]any{},
			"layers": []any{map[string]any{
				"digest":    "sha256:" + strings.Repeat("0", 64),
				"size":      1,
				"diff_ids":  "sha256:" + strings.Repeat("0", 64),
				"paths":     []any{map[string]any{"path": p}},
				"mediatype": "application/vnd.oci.image.layer.v1.tar",
			}},
		}
		data, _ := json.Marshal(doc)
		src := filepath.Join(t.TempDir(), "image.json")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), src, Options{})
		if err == nil || !strings.Contains(err.Error(), "is not in /nix/store") {
			t.Errorf("path %q: err = %v, want a refusal naming the path", p, err)
		}
	}
}
