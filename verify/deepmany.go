package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
	"golang.org/x/sync/errgroup"
)

// deepDiffMany compares the reference image with each of others (deepDiff
// is the case of one): the configs, the layers paired by content then by
// position, and the files of every layer pair that differs, the pairs in
// parallel (a bounded pool). Each of the reference's layers is read once:
// a reference layer compared with the layers of several others is
// decompressed once and its bytes fed to every comparison (teeLayer).
// Layers are listed from the configs' diff_ids alone (image.LayersOf),
// never by parsing a config of millions of labels.
func deepDiffMany(ctx context.Context, ref v1.Image, others []v1.Image, opts Options) ([]*deepResult, error) {
	rawA, err := ref.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of image A: %w", err)
	}
	topts := tarOptions{HeadCap: opts.HeadCap, Budget: opts.Budget}.withDefaults()
	type side struct {
		res     *deepResult
		pairs   []layerPair
		lb      []v1.Layer
		bud     *budget
		results []*tarDiff
	}
	sides := make([]*side, len(others))
	// units are the comparisons that read one reference layer (a: -1
	// for none, each such comparison a unit of its own): the other image
	// and the pair's index.
	type job struct{ o, k int }
	type unit struct {
		a    int
		jobs []job
	}
	var units []*unit
	byRef := map[int]*unit{}
	total := 0
	var da []v1.Hash
	for o, b := range others {
		rawB, err := b.RawConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading the config of image B: %w", err)
		}
		cd, err := diffConfigs(rawA, rawB)
		if err != nil {
			return nil, err
		}
		if o == 0 {
			if da, err = diffIDs(ref); err != nil {
				return nil, fmt.Errorf("image A: %w", err)
			}
		}
		db, err := diffIDs(b)
		if err != nil {
			return nil, fmt.Errorf("image B: %w", err)
		}
		pairs, ldiffs := pairLayers(da, db)
		s := &side{res: &deepResult{config: cd, layers: ldiffs}, pairs: pairs, bud: newBudget(topts.Budget), results: make([]*tarDiff, len(pairs))}
		if len(pairs) > 0 {
			if s.lb, err = image.LayersOf(b); err != nil {
				return nil, fmt.Errorf("reading the layers of image B: %w", err)
			}
		}
		sides[o] = s
		for k, p := range pairs {
			u := byRef[p.a]
			if u == nil || p.a < 0 {
				u = &unit{a: p.a}
				units = append(units, u)
				byRef[p.a] = u
			}
			u.jobs = append(u.jobs, job{o, k})
			total++
		}
	}
	var la []v1.Layer
	if len(units) > 0 {
		if la, err = image.LayersOf(ref); err != nil {
			return nil, fmt.Errorf("reading the layers of image A: %w", err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(workers)
	var mu sync.Mutex
	done := 0
	finished := func() {
		if opts.OnLayer != nil {
			mu.Lock()
			done++
			opts.OnLayer(done, total)
			mu.Unlock()
		}
	}
	compare := func(ra io.Reader, j job) error {
		s := sides[j.o]
		p := s.pairs[j.k]
		rb, err := openLayer(gctx, layerAt(s.lb, p.b))
		if err != nil {
			return fmt.Errorf("comparing layer %s of A with layer %s of B: image B: %w", layerName(p.a), layerName(p.b), err)
		}
		defer rb.Close()
		td, err := diffTars(ra, rb, topts, s.bud)
		if err != nil {
			return fmt.Errorf("comparing layer %s of A with layer %s of B: %w", layerName(p.a), layerName(p.b), err)
		}
		s.results[j.k] = td
		finished()
		return nil
	}
	for _, u := range units {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			ra, err := openLayer(gctx, layerAt(la, u.a))
			if err != nil {
				first := sides[u.jobs[0].o].pairs[u.jobs[0].k]
				return fmt.Errorf("comparing layer %s of A with layer %s of B: image A: %w", layerName(first.a), layerName(first.b), err)
			}
			defer ra.Close()
			if len(u.jobs) == 1 {
				return compare(ra, u.jobs[0])
			}
			return teeLayer(ra, len(u.jobs), func(i int, r io.Reader) error { return compare(r, u.jobs[i]) })
		})
	}
	if err := g.Wait(); err != nil {
		for _, s := range sides {
			closeResults(s.results)
		}
		return nil, err
	}
	out := make([]*deepResult, len(others))
	for o, s := range sides {
		var err error
		if s.res.files, s.res.omitted, err = collectFiles(s.pairs, s.results, s.bud); err != nil {
			for _, s := range sides[o+1:] {
				closeResults(s.results)
			}
			return nil, err
		}
		out[o] = s.res
	}
	return out, nil
}

// teeLayer feeds the bytes of src to n comparisons running at once, each
// reading its own pipe, so src is read once. A comparison that returns
// before the end of its stream (a tar's trailing padding) closes its pipe
// and is fed no more.
func teeLayer(src io.Reader, n int, compare func(i int, r io.Reader) error) error {
	readers := make([]*io.PipeReader, n)
	writers := make([]*io.PipeWriter, n)
	for i := range n {
		readers[i], writers[i] = io.Pipe()
	}
	var g errgroup.Group
	for i := range n {
		g.Go(func() error {
			err := compare(i, readers[i])
			readers[i].CloseWithError(errComparisonDone)
			return err
		})
	}
	buf := make([]byte, 256<<10)
	live := n
	var readErr error
	for live > 0 {
		m, err := src.Read(buf)
		for i, w := range writers {
			if w == nil || m == 0 {
				continue
			}
			if _, werr := w.Write(buf[:m]); werr != nil {
				writers[i] = nil
				live--
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, w := range writers {
		if w != nil {
			w.CloseWithError(readErr) // nil: io.EOF for the reader
		}
	}
	return g.Wait()
}

// errComparisonDone closes the pipe of a comparison that returned.
var errComparisonDone = errors.New("comparison done")
