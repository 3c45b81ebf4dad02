package lint

import (
	"bytes"
	"context"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/nixdock/nixdock-action/image"
)

// FuzzConfig lints arbitrary config JSON over a small layer: any input
// gives findings or an error, never a panic.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"config":{"Environment":["A=1"],"entrypoint":["x"],"Cmd":"/bin/app","ExposedPorts":["80"]}}`))
	f.Add([]byte(`{"created":"now","history":[{"created_by":"FROM alpine:3"}],"config":{"User":"app:grp","Env":["=","X"]}}`))
	f.Add([]byte(`{"config":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseConfig(raw)
		if err != nil {
			return
		}
		for _, fs := range cleanLayers() {
			for _, fl := range fs {
				m.add(&entry{path: image.EntryPath(fl.name), typ: fl.typ, link: fl.link, mode: uint32(fl.mode)})
			}
		}
		_ = m.findings(Options{}.withDefaults())
	})
}

// FuzzLayer streams arbitrary bytes as a layer tar.
func FuzzLayer(f *testing.F) {
	for _, fs := range [][]file{
		{reg("bin/app", "\x7fELF libssl.so", 0o555)},
		{sym("a", "/b"), reg(".wh.c", "", 0o644)},
	} {
		var b bytes.Buffer
		if err := writeLayer(&b, fs); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newModel([]byte(`{}`))
		_ = scanLayers(context.Background(), m, []v1.Layer{rawLayer(data)}, nil)
		_ = checkSize(m, Options{}.withDefaults())
		_, _, _ = m.resolve("/bin/app")
	})
}

type rawLayerT struct{ b []byte }

func rawLayer(b []byte) v1.Layer { return &rawLayerT{b} }

func (l *rawLayerT) Digest() (v1.Hash, error)           { return v1.Hash{}, nil }
func (l *rawLayerT) DiffID() (v1.Hash, error)           { return v1.Hash{}, nil }
func (l *rawLayerT) Compressed() (io.ReadCloser, error) { return l.Uncompressed() }
func (l *rawLayerT) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.b)), nil
}
func (l *rawLayerT) Size() (int64, error)                { return int64(len(l.b)), nil }
func (l *rawLayerT) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }
