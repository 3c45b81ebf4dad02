package cli

import (
	"io"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/sign"
)

// readCounter counts, per layer digest, how often the image the publish
// mode opened has its layers read (compressed, for the push; uncompressed,
// for lint), and how often an image is opened.
type readCounter struct {
	mu           sync.Mutex
	opened       int
	compressed   map[v1.Hash]int
	uncompressed map[v1.Hash]int
}

func (c *readCounter) wrap(img v1.Image) v1.Image {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened++
	return &countedImage{Image: img, c: c}
}

func (c *readCounter) add(m map[v1.Hash]int, h v1.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[h]++
}

type countedImage struct {
	v1.Image
	c *readCounter
}

func (i *countedImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	out := make([]v1.Layer, len(ls))
	for k, l := range ls {
		out[k] = &countedLayer{Layer: l, c: i.c}
	}
	return out, err
}

func (i *countedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return &countedLayer{Layer: l, c: i.c}, nil
}

func (i *countedImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDiffID(h)
	if err != nil {
		return nil, err
	}
	return &countedLayer{Layer: l, c: i.c}, nil
}

type countedLayer struct {
	v1.Layer
	c *readCounter
}

func (l *countedLayer) Compressed() (io.ReadCloser, error) {
	h, err := l.Digest()
	if err != nil {
		return nil, err
	}
	l.c.add(l.c.compressed, h)
	return l.Layer.Compressed()
}

func (l *countedLayer) Uncompressed() (io.ReadCloser, error) {
	h, err := l.Digest()
	if err != nil {
		return nil, err
	}
	l.c.add(l.c.uncompressed, h)
	return l.Layer.Uncompressed()
}

// TestActionPublishReadsOnce: one publish run opens the uploaded image
// once, pushes each layer's blob once (read once, never re-compressed) and
// lints each layer once, from the same handle.
func TestActionPublishReadsOnce(t *testing.T) {
	nixtest.Require(t)
	host := memRegistry(t)
	r := newRunner(t)
	digest := r.buildJobs("hello.nix", "image", "publish")[1].outputs[action.OutputDigest]
	keys, err := sign.GenerateKeys(filepath.Join(t.TempDir(), "cosign"), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	c := &readCounter{compressed: map[v1.Hash]int{}, uncompressed: map[v1.Hash]int{}}
	publishImage = c.wrap
	t.Cleanup(func() { publishImage = nil })
	p := r.step("publish", map[string]string{
		"mode": "publish", "image": host + "/octo/hello:v1", "key": keys.Private, "cosign-password": "pw",
	})
	if p.code != 0 || p.outputs[action.OutputDigest] != digest {
		t.Fatalf("publish: exit %d, outputs %v: %s", p.code, p.outputs, p.stderr)
	}
	if c.opened != 1 {
		t.Errorf("the image was opened %d times, want once", c.opened)
	}
	if len(c.compressed) == 0 {
		t.Fatal("no layer was pushed through the image the run opened")
	}
	for h, n := range c.compressed {
		if n != 1 {
			t.Errorf("layer %s: blob read %d times, want once (the push)", h, n)
		}
	}
	for h, n := range c.uncompressed {
		if n != 1 {
			t.Errorf("layer %s: uncompressed %d times, want once (lint)", h, n)
		}
	}
	t.Logf("opened %d, blobs read %v, uncompressed %v", c.opened, c.compressed, c.uncompressed)
	if len(c.uncompressed) != len(c.compressed) {
		t.Errorf("%d layers pushed, %d linted", len(c.compressed), len(c.uncompressed))
	}
}
