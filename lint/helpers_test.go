package lint

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/nixdock/nixdock-action/image"
)

// file is one tar member of a synthetic layer.
type file struct {
	name string
	typ  byte
	mode int64
	body string
	link string
	uid  int
	gid  int
	mt   int64
	// size, when set, streams that many 'x' bytes instead of body.
	size int64
}

func reg(name, body string, mode int64) file {
	return file{name: name, typ: tar.TypeReg, mode: mode, body: body, mt: 1}
}
func dir(name string) file { return file{name: name, typ: tar.TypeDir, mode: 0o755, mt: 1} }
func sym(name, target string) file {
	return file{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target, mt: 1}
}

// writeLayer writes files as a tar stream to w.
func writeLayer(w io.Writer, files []file) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		size := int64(len(f.body))
		if f.size > 0 {
			size = f.size
		}
		if f.typ != tar.TypeReg {
			size = 0
		}
		hdr := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: f.mode, Size: size, Linkname: f.link,
			Uid: f.uid, Gid: f.gid, ModTime: unix(f.mt), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if f.typ != tar.TypeReg {
			continue
		}
		var r io.Reader = bytes.NewReader([]byte(f.body))
		if f.size > 0 {
			r = io.LimitReader(xs{}, f.size)
		}
		if _, err := io.Copy(tw, r); err != nil {
			return err
		}
	}
	return tw.Close()
}

type xs struct{}

func (xs) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// synthLayer streams its tar from a goroutine: it is never in memory whole.
type synthLayer struct {
	files  []file
	diffID v1.Hash
}

func (l *synthLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *synthLayer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }
func (l *synthLayer) Uncompressed() (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeLayer(pw, l.files)) }()
	return pr, nil
}

type synthCore struct {
	raw    []byte
	layers map[v1.Hash]*synthLayer
}

func (c *synthCore) RawConfigFile() ([]byte, error)      { return c.raw, nil }
func (c *synthCore) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (c *synthCore) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	return c.layers[h], nil
}

// synthImage makes an image of rawConfig (whose rootfs is filled in) and
// layers. Layer diff_ids are made up: only their order matters here.
func synthImage(t testing.TB, rawConfig string, layers ...[]file) v1.Image {
	t.Helper()
	core := &synthCore{layers: map[v1.Hash]*synthLayer{}}
	ids := ""
	for i, fs := range layers {
		sum := sha256.Sum256([]byte{byte(i)})
		h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		core.layers[h] = &synthLayer{files: fs, diffID: h}
		if i > 0 {
			ids += ","
		}
		ids += `"` + h.String() + `"`
	}
	raw := rawConfig[:len(rawConfig)-1]
	if len(raw) > 1 {
		raw += ","
	}
	core.raw = []byte(raw + `"rootfs":{"type":"layers","diff_ids":[` + ids + `]}}`)
	img, err := partial.UncompressedToImage(core)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func runSynth(t testing.TB, img v1.Image, opts Options) *Result {
	t.Helper()
	res, err := RunImage(context.Background(), img, ImageInfo{Source: "synthetic"}, opts)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	return res
}

// ids returns the rule ids of the findings, in order, without repeats.
func ids(r *Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if !seen[f.ID] {
			seen[f.ID] = true
			out = append(out, f.ID)
		}
	}
	return out
}

func find(r *Result, id string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].ID == id {
			return &r.Findings[i]
		}
	}
	return nil
}

func unix(s int64) time.Time { return time.Unix(s, 0) }

// manifestCore is a manifest-backed image (as go-containerregistry reads
// registries and OCI layouts): its layers come from its manifest, and
// looking one up by diff_id would parse its typed config.
type manifestCore struct {
	raw, manifest []byte
	layers        map[v1.Hash]v1.Layer
}

func (c *manifestCore) RawConfigFile() ([]byte, error)      { return c.raw, nil }
func (c *manifestCore) RawManifest() ([]byte, error)        { return c.manifest, nil }
func (c *manifestCore) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (c *manifestCore) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := c.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no layer %s", h)
}

// manifestImage is synthImage's image as a manifest-backed image: the same
// raw config, its layers compressed and listed in a manifest.
func manifestImage(t testing.TB, rawConfig string, layers ...[]file) v1.Image {
	t.Helper()
	synth := synthImage(t, rawConfig, layers...)
	raw, err := synth.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	core := &manifestCore{raw: raw, layers: map[v1.Hash]v1.Layer{}}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	m.Config.MediaType, m.Config.Size = types.OCIConfigJSON, int64(len(raw))
	if m.Config.Digest, _, err = v1.SHA256(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	ids, err := image.DiffIDs(synth)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		ul, err := synth.LayerByDiffID(id)
		if err != nil {
			t.Fatal(err)
		}
		d, err1 := ul.Digest()
		size, err2 := ul.Size()
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		core.layers[d] = ul
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCILayer, Size: size, Digest: d})
	}
	if core.manifest, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	img, err := partial.CompressedToImage(core)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
