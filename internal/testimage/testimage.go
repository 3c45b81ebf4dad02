package testimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one entry of a layer. Name may start with "/" (dropped, as
// layers hold relative names).
type Entry struct {
	Name     string
	Body     string
	Mode     int64
	UID      int
	Type     byte
	Linkname string
	// Format is the tar header's format; zero is GNU.
	Format tar.Format
}

// Dir is a directory entry, mode 0555 (as in the Nix store).
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o555} }

// File is a regular file, mode 0444 (as in the Nix store).
func File(name, body string) Entry {
	return Entry{Name: name, Body: body, Type: tar.TypeReg, Mode: 0o444}
}

// Layer is the uncompressed tar of entries, in the order given: GNU
// format unless an entry says otherwise, every time 1970-01-01T00:00:01Z, directories named with a
// trailing slash.
func Layer(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: strings.TrimPrefix(e.Name, "/"), Typeflag: e.Type, Mode: e.Mode, Uid: e.UID,
			Size: int64(len(e.Body)), Linkname: e.Linkname, ModTime: time.Unix(1, 0), Format: e.Format}
		if hdr.Format == tar.FormatUnknown {
			hdr.Format = tar.FormatGNU
		}
		if e.Type == tar.TypeDir && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		if e.Type != tar.TypeReg {
			hdr.Size = 0 // only regular files have a body
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.Body)[:hdr.Size]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// V1Layer is Layer as a v1.Layer (gzip-compressed on demand).
func V1Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	return LayerFromBytes(t, Layer(t, entries...))
}

// LayerFromBytes is the uncompressed tar data as a v1.Layer
// (gzip-compressed on demand).
func LayerFromBytes(t testing.TB, data []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// DiffID is the diff_id of an uncompressed layer: its sha256.
func DiffID(layer []byte) string {
	sum := sha256.Sum256(layer)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Archive is a docker-archive (docker save's format) of uncompressed
// layers.
type Archive struct {
	Layers [][]byte
	// DiffIDs are what the config claims for the layers; nil claims each
	// layer's own (DiffID).
	DiffIDs []string
	// Config is the config's "config" object (Cmd, Env, ...); nil is
	// {"Cmd": ["/bin/true"]}.
	Config map[string]any
	// RepoTags name the image in manifest.json.
	RepoTags []string
	// NoConfig leaves the config out of the archive (manifest.json still
	// names it).
	NoConfig bool
	// Extra are more members, name to content, written in name order
	// after the others (any name: "../x", "/etc/x").
	Extra map[string]string
}

// Write writes the archive to path (config.json, layerN.tar,
// manifest.json) and returns path.
func (a Archive) Write(t testing.TB, path string) string {
	t.Helper()
	diffIDs := a.DiffIDs
	if diffIDs == nil {
		for _, l := range a.Layers {
			diffIDs = append(diffIDs, DiffID(l))
		}
	}
	conf := a.Config
	if conf == nil {
		conf = map[string]any{"Cmd": []string{"/bin/true"}}
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:01Z", "config": conf,
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	type member struct {
		name string
		data []byte
	}
	var members []member
	if !a.NoConfig {
		members = append(members, member{"config.json", cfg})
	}
	var names []string
	for i, l := range a.Layers {
		name := "layer.tar"
		if len(a.Layers) > 1 {
			name = fmt.Sprintf("layer%d.tar", i)
		}
		names = append(names, name)
		members = append(members, member{name, l})
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": a.RepoTags, "Layers": names}})
	if err != nil {
		t.Fatal(err)
	}
	members = append(members, member{"manifest.json", manifest})
	for _, name := range slices.Sorted(maps.Keys(a.Extra)) {
		members = append(members, member{name, []byte(a.Extra[name])})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
