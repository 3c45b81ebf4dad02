package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// CheckLayers reads every layer of img in full and checks its bytes against
// the digests the image claims: the uncompressed bytes against the config's
// diff_id, and, for forms that hold compressed blobs (OCI layouts, registry
// images), the blob against the manifest's digest. Comparing images by their
// claimed digests alone would let a layer changed under an intact config
// pass as "same"; after CheckLayers, every digest of img is one nixdock
// computed from bytes it read.
//
// Layers are read in parallel (workers; 0 is GOMAXPROCS, at most
// MaxDefaultWorkers) and streamed, never held in memory. A mismatch is an
// error wrapping ErrBadArchive that names the layer.
func CheckLayers(ctx context.Context, img *Image, workers int) error {
	layers, diffIDs, err := layersAndDiffIDs(img.Image)
	if err != nil {
		return fmt.Errorf("%w %s: %v", ErrBadArchive, img.Source, err)
	}
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), MaxDefaultWorkers)
	}
	compressed := img.Form == FormOCILayout || img.Form == FormRegistry
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, l := range layers {
		want := diffIDs[i]
		g.Go(func() error {
			var err error
			if compressed {
				err = checkBlob(ctx, l, want)
			} else {
				err = checkUncompressed(ctx, l, want)
			}
			switch {
			case err != nil && ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, ErrBadArchive):
				return fmt.Errorf("%w: tampered or corrupt", err)
			case err != nil:
				return fmt.Errorf("%w %s: layer %d (diff_id %s): %v: tampered or corrupt",
					ErrBadArchive, img.Source, i+1, want, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// checkUncompressed reads the layer's uncompressed bytes to the end. The
// forms nixdock opens from files (archives, stream output, nix2container)
// serve layers through a verifying reader (verifying) that hashes every
// byte and fails at the end when the hash is not the diff_id; hashing here
// a second time would double the cost of the floor.
func checkUncompressed(ctx context.Context, l v1.Layer, want v1.Hash) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, ok := rc.(*verifyingReader); !ok {
		got, err := hashAll(ctx, rc)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("its bytes hash to %s", got)
		}
		return nil
	}
	return drain(ctx, rc)
}

// drain reads r to the end, checking ctx between blocks.
func drain(ctx context.Context, r io.Reader) error {
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := r.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// checkBlob hashes the compressed blob against the manifest's digest and
// its decompressed bytes against the diff_id, in one read.
func checkBlob(ctx context.Context, l v1.Layer, wantDiffID v1.Hash) error {
	wantDigest, err := l.Digest()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	blobHash := sha256.New()
	dec, err := decompressed(io.TeeReader(rc, blobHash))
	if err != nil {
		return err
	}
	defer dec.Close()
	got, err := hashAll(ctx, dec)
	if err != nil {
		return err
	}
	// Drain what the decompressor left (trailing bytes still belong to the blob).
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	if gotDigest := (v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(blobHash.Sum(nil))}); gotDigest != wantDigest {
		return fmt.Errorf("its blob hashes to %s, but the manifest says %s", gotDigest, wantDigest)
	}
	if got != wantDiffID {
		return fmt.Errorf("its uncompressed bytes hash to %s", got)
	}
	return nil
}

// hashAll reads r to the end, checking ctx between blocks.
func hashAll(ctx context.Context, r io.Reader) (v1.Hash, error) {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return v1.Hash{}, err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return v1.Hash{}, err
		}
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, nil
}
