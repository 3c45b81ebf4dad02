package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/nixdock/nixdock-action/record"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/verify"
)

// TestOpenImageOnDemand gives images through Options.OpenImage: records
// that agree open nothing, differing records open only the images the deep
// diff needs (the reference's first member at hand and one per other
// group), each once, and the report is the one eager Images give.
func TestOpenImageOnDemand(t *testing.T) {
	a, b := recordFor(t, "builder-a", imgDrv, false), recordFor(t, "builder-b", imgDrv, true)
	c := withID(a, "builder-c")
	d := withID(b, "builder-d")
	imgs := []*image.Image{syntheticImage(t, false), nil, syntheticImage(t, false), syntheticImage(t, true)}
	var asked []int
	opener := func(_ context.Context, i int) (*image.Image, error) {
		asked = append(asked, i)
		return imgs[i], nil
	}
	ctx := context.Background()

	if _, err := verify.Records(ctx, []*record.Record{a, c}, verify.Options{OpenImage: opener}); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 0 {
		t.Fatalf("records that agree opened images %v", asked)
	}

	// a (index 0) stands for the reference group {a, c}; the other group
	// {b, d} is represented by d, b's image not being at hand.
	recs := []*record.Record{a, b, c, d}
	lazy, err := verify.Records(ctx, recs, verify.Options{OpenImage: opener})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []int{0, 1, 3}) {
		t.Errorf("opened %v, want 0 (reference), 1 (not at hand), 3", asked)
	}
	eager, err := verify.Records(ctx, recs, verify.Options{Images: imgs})
	if err != nil {
		t.Fatal(err)
	}
	lj, _ := json.Marshal(lazy)
	ej, _ := json.Marshal(eager)
	if string(lj) != string(ej) {
		t.Errorf("report with images opened on demand differs from the eager one:\n%s\n%s", lj, ej)
	}
	if len(lazy.Culprits) == 0 {
		t.Errorf("the deep diff did not run: %q", lazy.Verdict)
	}

	// An opener's error ends the comparison.
	boom := errors.New("boom")
	_, err = verify.Records(ctx, recs, verify.Options{OpenImage: func(context.Context, int) (*image.Image, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want the opener's", err)
	}
	// An image opened on demand must be its record's image.
	swapped := func(_ context.Context, i int) (*image.Image, error) { return imgs[3-i], nil }
	if _, err := verify.Records(ctx, []*record.Record{a, d}, verify.Options{OpenImage: swapped}); !errors.Is(err, image.ErrBadArchive) {
		t.Errorf("swapped images: err %v, want ErrBadArchive", err)
	}
}

// TestRecordImages: a record whose out path is not on this machine is not
// at hand (OnMissing says why, once), a named image that cannot be opened
// is an error naming the record.
func TestRecordImages(t *testing.T) {
	a, b := recordFor(t, "builder-a", imgDrv, false), recordFor(t, "builder-b", imgDrv, true)
	var missing []error
	ri := &verify.RecordImages{Records: []*record.Record{a, b}, OnMissing: func(_ int, _ string, why error) { missing = append(missing, why) }}
	defer ri.Close()
	for range 2 {
		img, err := ri.Open(context.Background(), 1)
		if img != nil || err != nil {
			t.Fatalf("Open: %v, %v; want not at hand", img, err)
		}
	}
	if len(missing) != 1 || !errors.Is(missing[0], verify.ErrImageNotHere) {
		t.Errorf("OnMissing heard %v, want ErrImageNotHere once", missing)
	}
	named := &verify.RecordImages{Records: []*record.Record{a, b}, Paths: []string{"/nonexistent/a.tar", "/nonexistent/b.tar"}}
	if _, err := named.Open(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "record 2") {
		t.Errorf("a named image that does not open: err %v, want one naming record 2", err)
	}
}

// countingImage counts, per layer index, how often a layer is read.
type countingImage struct {
	v1.Image
	mu    *sync.Mutex
	reads map[int]int
}

func (c countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = countingLayer{Layer: l, count: func() { c.mu.Lock(); c.reads[i]++; c.mu.Unlock() }}
	}
	return out, err
}

// LayerByDiffID counts too: the deep diff lists layers by diff_id
// (image.LayersOf).
func (c countingImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	ls, err := c.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if d, err := l.DiffID(); err == nil && d == h {
			return l, nil
		}
	}
	return c.Image.LayerByDiffID(h)
}

type countingLayer struct {
	v1.Layer
	count func()
}

func (l countingLayer) Uncompressed() (io.ReadCloser, error) {
	l.count()
	return l.Layer.Uncompressed()
}

// TestReferenceLayersReadOnce compares the reference with two other
// images at once: a reference layer that differs from both is read once
// for both, as often as a layer that differs from one of them.
func TestReferenceLayersReadOnce(t *testing.T) {
	a := syntheticImage(t, false)
	// c differs from a in the sum layer only; b in the app and sum layers.
	sumC := layerOf(t, []tentry{dir(sumPath), dir(sumPath + "/share"), file(sumPath+"/share/app.sha256", "0000  "+appPath+"/share/app/build-info\n")})
	ls, err := a.Layers()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	ci, err := mutate.AppendLayers(empty.Image, ls[0], ls[1], sumC)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := ci.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RootFS = cf.RootFS
	if ci, err = mutate.ConfigFile(ci, cfg); err != nil {
		t.Fatal(err)
	}
	c := &image.Image{Image: ci, Form: image.FormArchive, Source: "c.tar"}
	b := syntheticImage(t, true)
	counted := &image.Image{Image: countingImage{Image: a.Image, mu: &sync.Mutex{}, reads: map[int]int{}}, Form: a.Form, Source: a.Source}
	recs := []*record.Record{
		describing(t, syntheticRecord("builder-a", imgDrv), a),
		describing(t, syntheticRecord("builder-b", imgDrv), b),
		describing(t, syntheticRecord("builder-c", imgDrv), c),
	}
	rep, err := verify.Records(context.Background(), recs, verify.Options{Images: []*image.Image{counted, b, c}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 3 || len(rep.Culprits) == 0 {
		t.Fatalf("want three groups and culprits: %q", rep.Verdict)
	}
	seen := map[string]bool{}
	for _, d := range rep.Differences {
		if d.Path == sumPath+"/share/app.sha256" && d.Field == "content" {
			seen[d.Builder] = true
		}
	}
	if !seen["builder-b"] || !seen["builder-c"] {
		t.Errorf("the sum file should differ with builder-b and builder-c: %v", seen)
	}
	reads := counted.Image.(countingImage).reads
	if reads[2] != reads[1] || reads[2] == 0 {
		t.Errorf("reference layer reads %v: the sum layer (differing from b and c) should be read as often as the app layer (differing from b only)", reads)
	}
}
