package verify

import (
	"bytes"
	"context"
	"io"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
)

// deepResult is what the deep diff of two images found.
type deepResult struct {
	config *configDiff
	layers []Difference
	files  []fileDiff
	// omitted counts the differing files not kept in full (retain.go).
	omitted omittedSet
}

// layerPair is a layer of A and the layer of B compared with it (-1 for
// none).
type layerPair struct{ a, b int }

// pairLayers pairs layers by content first (equal diff_ids need no reading,
// wherever they are) and the rest by position, and lists the layer-level
// differences.
func pairLayers(da, db []v1.Hash) ([]layerPair, []Difference) {
	var diffs []Difference
	if len(da) != len(db) {
		diffs = append(diffs, Difference{Kind: "layer", Layer: -1, Field: "count",
			A: strconv.Itoa(len(da)), B: strconv.Itoa(len(db))})
	}
	usedA, usedB := make([]bool, len(da)), make([]bool, len(db))
	for i := range da {
		if i < len(db) && da[i] == db[i] {
			usedA[i], usedB[i] = true, true
		}
	}
	for i := range da {
		if usedA[i] {
			continue
		}
		for j := range db {
			if !usedB[j] && db[j] == da[i] {
				usedA[i], usedB[j] = true, true
				diffs = append(diffs, Difference{Kind: "layer", Layer: i, LayerB: intPtr(j), Field: "position",
					A: strconv.Itoa(i), B: strconv.Itoa(j)})
				break
			}
		}
	}
	var ua, ub []int
	for i, u := range usedA {
		if !u {
			ua = append(ua, i)
		}
	}
	for j, u := range usedB {
		if !u {
			ub = append(ub, j)
		}
	}
	var pairs []layerPair
	for len(ua) > 0 || len(ub) > 0 {
		p := layerPair{-1, -1}
		if len(ua) > 0 {
			p.a, ua = ua[0], ua[1:]
		}
		if len(ub) > 0 {
			p.b, ub = ub[0], ub[1:]
		}
		pairs = append(pairs, p)
		diffs = append(diffs, pairDifference(p, da, db))
	}
	return pairs, diffs
}

func pairDifference(p layerPair, da, db []v1.Hash) Difference {
	d := Difference{Kind: "layer", Layer: p.a, Field: "diffID", A: "(absent)", B: "(absent)"}
	if p.a >= 0 {
		d.A = da[p.a].String()
	}
	if p.b >= 0 {
		d.B = db[p.b].String()
	}
	if p.b != p.a {
		d.LayerB = intPtr(p.b)
	}
	if p.a < 0 || p.b < 0 {
		d.Field = "presence"
	}
	return d
}

func intPtr(i int) *int { return &i }

// deepDiff compares the configs and layers of two images: deepDiffMany
// with one other image.
func deepDiff(ctx context.Context, a, b v1.Image, opts Options) (*deepResult, error) {
	res, err := deepDiffMany(ctx, a, []v1.Image{b}, opts)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

func diffIDs(img v1.Image) ([]v1.Hash, error) { return image.DiffIDs(img) }

func layerAt(ls []v1.Layer, i int) v1.Layer {
	if i < 0 || i >= len(ls) {
		return nil
	}
	return ls[i]
}

func layerName(i int) string {
	if i < 0 {
		return "(none)"
	}
	return strconv.Itoa(i)
}

// openLayer reads l ahead; an interrupt (ctx) stops the read within one
// chunk, even inside one large file.
func openLayer(ctx context.Context, l v1.Layer) (io.ReadCloser, error) {
	if l == nil {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	return newReadAhead(readCloser{image.ContextReader(ctx, rc), rc}), nil
}

// collectFiles sets the layer indices of each pair's differences and
// matches entries missing from one pair with entries of another pair (a
// file that moved between layers). At most maxKeptFiles are kept in full;
// the rest, and the pairs' own omitted files, are counted.
//
// The unmatched entries stay in their pairs' stores on disk: memory holds
// their names and offsets, and each entry is read back when compared. The
// stores are closed on return.
func collectFiles(pairs []layerPair, results []*tarDiff, bud *budget) ([]fileDiff, omittedSet, error) {
	defer closeResults(results)
	var files []fileDiff
	omitted := omittedSet{}
	keep := func(fd fileDiff) {
		if len(files) < maxKeptFiles {
			files = append(files, fd)
			return
		}
		omitted.add(&fd, fd.Layer)
		bud.give(len(fd.SampleA) + len(fd.SampleB))
	}
	for k, td := range results {
		p := pairs[k]
		for _, fd := range td.files {
			fd.Layer, fd.LayerB = p.a, p.b
			keep(fd)
		}
		omitted.merge(td.omitted, p.a)
	}
	// The unmatched entries of every pair, A's and B's, are merged by
	// name (each pair's list is sorted): no map of names, and an entry is
	// read back from its store only when its turn comes. A name left in
	// several pairs of one side is the last pair's entry, as in the
	// merged filesystem.
	d := &tarDiffer{budget: bud}
	m := newLeftoverMerge(results)
	for {
		ka, offA, kb, offB := m.next()
		if ka < 0 && kb < 0 {
			break
		}
		var ea, eb *entry
		var err error
		if ka >= 0 {
			if ea, err = results[ka].storeA.get(offA); err != nil {
				return nil, nil, err
			}
		}
		if kb >= 0 {
			if eb, err = results[kb].storeB.get(offB); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case eb == nil:
			keep(presenceDiff(ea, pairs[ka].a, -1, true))
		case ea == nil:
			keep(presenceDiff(eb, -1, pairs[kb].b, false))
		default:
			// Positions in different layers say nothing; compare the rest.
			eb.index = ea.index
			if fd := d.compareEntries(ea, eb); fd != nil {
				fd.Layer, fd.LayerB = pairs[ka].a, pairs[kb].b
				keep(*fd)
			}
		}
	}
	return files, omitted, nil
}

// closeResults frees the stores of the layer pairs' unmatched entries.
func closeResults(results []*tarDiff) {
	for _, td := range results {
		td.close()
	}
}

func presenceDiff(e *entry, layerA, layerB int, inA bool) fileDiff {
	d := Difference{Kind: "entry", Path: e.name, Field: "presence", A: typeName(e.typeflag), B: "(absent)"}
	if !inA {
		d.A, d.B = d.B, d.A
	}
	return fileDiff{Path: e.name, Layer: layerA, LayerB: layerB, Fields: []Difference{d}}
}

// readCloser reads from Reader and closes Closer.
type readCloser struct {
	io.Reader
	io.Closer
}

// readAhead reads its source in a goroutine, a few chunks ahead, so that
// decompressing and hashing the two layers of a pair overlap.
type readAhead struct {
	src  io.ReadCloser
	full chan []byte
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  []byte
	buf  []byte
	err  error
}

const (
	readAheadChunk = 256 << 10
	readAheadDepth = 4
)

func newReadAhead(src io.ReadCloser) *readAhead {
	r := &readAhead{src: src, full: make(chan []byte, readAheadDepth), free: make(chan []byte, readAheadDepth+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for i := 0; i < readAheadDepth+1; i++ {
		r.free <- make([]byte, readAheadChunk)
	}
	go r.fill()
	return r
}

func (r *readAhead) fill() {
	defer close(r.done)
	defer close(r.full)
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.stop:
			return
		}
		n, err := io.ReadFull(r.src, buf)
		if n > 0 {
			select {
			case r.full <- buf[:n]:
			case <-r.stop:
				return
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return
		}
		if err != nil {
			r.err = err
			return
		}
	}
}

func (r *readAhead) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.buf != nil {
			r.free <- r.buf[:cap(r.buf)]
			r.buf = nil
		}
		buf, ok := <-r.full
		if !ok {
			<-r.done
			if r.err != nil {
				return 0, r.err
			}
			return 0, io.EOF
		}
		r.buf, r.cur = buf, buf
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (r *readAhead) Close() error {
	close(r.stop)
	<-r.done
	return r.src.Close()
}
