package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
)

// PushImageRequest is the push of an image as nixdock opened it (an
// archive, a stream output, an OCI layout, ...): described and pushed in
// one pass.
type PushImageRequest struct {
	Image *image.Image
	// Compression of the layers nixdock compresses itself.
	Compression image.Compression
	Destination name.Reference
	Registry    sign.Registry
	// Record, when set, must describe the image (ErrNotRecordImage).
	Record *record.Record
	// TempDir holds the compressed layers until they are sent ("" is the
	// system's).
	TempDir string
	// OnLayer is called as each layer is read and compressed (done of
	// total), OnUploaded as each is sent (done), Progress as the rest of
	// the push sends bytes (what Push's remote.Write still has to send).
	OnLayer    func(done, total int)
	OnUploaded func(done int)
	Progress   func(done, total int64)
}

// PushImageResult is what PushImage pushed and the digests it computed.
type PushImageResult struct {
	*sign.PushResult
	Digests image.Digests
}

// PushImage describes req.Image (every layer read once, checked against
// its diff_id and compressed once, in parallel) and sends each layer as
// soon as it is compressed, so that compression and upload overlap; then
// pushes the manifest, once the whole image is described and, with a
// record, once its manifest digest is the record's. Nothing that was not
// checked is sent: a layer goes out only after its bytes matched its
// diff_id, and, with a record, only when its compressed digest is the one
// the record lists for it (the record's image's own layer). An image whose
// manifest digest is not the record's is refused before its manifest is
// pushed; the blobs already sent are that record's layers.
func PushImage(ctx context.Context, req PushImageRequest) (*PushImageResult, error) {
	if req.Image == nil || req.Destination == nil {
		return nil, errors.New("push: no image or no destination")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	up := sign.NewUploader(ctx, req.Destination, req.Registry, req.OnUploaded)
	pub, digests, err := image.Describe(up.Context(), req.Image, image.DescribeOptions{
		Compression:    req.Compression,
		KeepCompressed: true,
		TempDir:        req.TempDir,
		OnLayer:        req.OnLayer,
		OnCompressed: func(i, n int, l v1.Layer) {
			if req.Record != nil && !recordLayer(req.Record.Image.Layers, i, l) {
				return // not the record's layer: the manifest check refuses the image
			}
			up.Upload(l, fmt.Sprintf("layer %d of %d", i+1, n))
		},
	})
	if err != nil {
		// Stop sending. When a failed upload is what ended Describe (its
		// context), the upload's error says why.
		cancel()
		if upErr := up.Wait(); upErr != nil && errors.Is(err, context.Canceled) && !errors.Is(upErr, context.Canceled) {
			return nil, upErr
		}
		return nil, err
	}
	if err := up.Wait(); err != nil {
		return nil, err
	}
	res, err := Push(ctx, PushRequest{Image: pub, Destination: req.Destination, Registry: req.Registry,
		Record: req.Record, Progress: req.Progress})
	var mismatch *RecordMismatchError
	if errors.As(err, &mismatch) {
		mismatch.Compressor = digests.Compressor.Name
	}
	if err != nil {
		return nil, err
	}
	return &PushImageResult{PushResult: res, Digests: digests}, nil
}

// recordLayer says whether l, layer i of the image, is layer i of the
// record's image: the same compressed digest.
func recordLayer(want []image.Layer, i int, l v1.Layer) bool {
	d, err := l.Digest()
	return err == nil && i < len(want) && want[i].Digest == d.String()
}
