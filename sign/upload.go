package sign

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// UploadJobs is how many blobs an Uploader sends at once (as many as
// go-containerregistry's remote.Write).
const UploadJobs = 4

// Uploader sends an image's layers to a repository as each one is ready,
// while the others are still being read and compressed, so that
// compression and upload overlap. It uploads blobs only: the manifest, and
// so the image, is pushed afterwards by Push, which then finds every blob
// there. A blob the registry already has is not sent again.
type Uploader struct {
	ctx  context.Context
	g    *errgroup.Group
	sem  chan struct{}
	repo name.Repository
	// pusher keeps one authenticated connection setup for every upload
	// (remote.WriteLayer would ping and authenticate once per layer).
	pusher *remote.Pusher
	err    error

	mu       sync.Mutex
	uploaded int
	onLayer  func(uploaded int)
}

// NewUploader starts an uploader to dst's repository. Its context, which
// the caller should read the layers under, ends at the first failed
// upload, so that no more work is done for a push that cannot succeed.
// onLayer, when set, is called with the number of layers sent so far.
func NewUploader(ctx context.Context, dst name.Reference, reg Registry, onLayer func(uploaded int)) *Uploader {
	g, gctx := errgroup.WithContext(ctx)
	pusher, err := remote.NewPusher(reg.RemoteOptions(gctx)...)
	return &Uploader{ctx: gctx, g: g, sem: make(chan struct{}, UploadJobs), repo: dst.Context(),
		pusher: pusher, err: err, onLayer: onLayer}
}

// Context is the uploader's context: done when an upload failed or the
// parent's context ended.
func (u *Uploader) Context() context.Context { return u.ctx }

// Upload sends layer l (what names it in errors, such as "layer 3 of 9")
// in the background; it never blocks the caller. l's digest must be known
// (a compressed layer nixdock digested), and its bytes are checked by the
// registry against it.
func (u *Uploader) Upload(l v1.Layer, what string) {
	u.g.Go(func() error {
		select {
		case u.sem <- struct{}{}:
		case <-u.ctx.Done():
			return u.ctx.Err()
		}
		defer func() { <-u.sem }()
		if u.err != nil {
			return u.err
		}
		if err := u.pusher.Upload(u.ctx, u.repo, l); err != nil {
			d, _ := l.Digest()
			size, _ := l.Size()
			return &BlobError{Digest: d, What: what, Size: size, Err: err}
		}
		u.mu.Lock()
		u.uploaded++
		if u.onLayer != nil {
			u.onLayer(u.uploaded)
		}
		u.mu.Unlock()
		return nil
	})
}

// Wait waits for every upload and returns the first error.
func (u *Uploader) Wait() error {
	if err := u.g.Wait(); err != nil {
		return fmt.Errorf("pushing to %s: %w", u.repo, err)
	}
	return nil
}
