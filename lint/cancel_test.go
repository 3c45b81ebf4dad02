package lint

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/internal/hostile"
)

// TestCancelInsideFile: an interrupt stops the scan inside one huge file,
// not after it.
func TestCancelInsideFile(t *testing.T) {
	l := &endlessLayer{rawLayerT{}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { done <- scanLayers(ctx, newModel(nil), []v1.Layer{l}, nil) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the scan went on 10 s after the interrupt")
	}
}

// endlessLayer is a layer whose one file never ends.
type endlessLayer struct{ rawLayerT }

func (*endlessLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(hostile.EndlessFile("bin/huge", 1<<40)), nil
}
