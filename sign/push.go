package sign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry says how to reach a registry. The zero value uses the Docker
// config keychain and plain HTTP only for loopback registries, as
// go-containerregistry does. Credentials are values: nothing here reads
// the environment, so a caller never has to put a secret there.
type Registry struct {
	// Insecure allows plain HTTP to registries that are not on loopback.
	Insecure bool
	// Auth, when set, is used for AuthRegistry (or every registry when
	// that is empty) instead of the keychain: a user name and password
	// the user gave.
	Auth authn.Authenticator
	// AuthRegistry is the registry (host[:port]) Auth is for, so that a
	// password given for the destination is never sent to another
	// registry (an image's source, say).
	AuthRegistry string
	// GitHubToken, when set, authenticates to ghcr.io as GitHubActor
	// (x-access-token when empty): what a workflow with
	// `packages: write` has.
	GitHubToken, GitHubActor string
	// Transport is the HTTP transport; nil is remote.DefaultTransport.
	Transport http.RoundTripper
	// Jobs is how many blobs are uploaded at once; 0 is 4 or GOMAXPROCS.
	Jobs int
	// Backoff is the retry schedule for transient errors; zero is
	// DefaultBackoff.
	Backoff remote.Backoff
}

// DefaultBackoff retries a failed request three times, 1 s, 2 s and 4 s
// apart: long enough for a registry restart, short enough to fail fast.
var DefaultBackoff = remote.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 4}

// ParseReference parses a registry reference with the registry's options.
func (r Registry) ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, r.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", s, err)
	}
	return ref, nil
}

func (r Registry) nameOptions() []name.Option {
	if r.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// RemoteOptions are the go-containerregistry options for this registry.
func (r Registry) RemoteOptions(ctx context.Context) []remote.Option {
	jobs := r.Jobs
	if jobs <= 0 {
		jobs = max(4, runtime.GOMAXPROCS(0))
	}
	backoff := r.Backoff
	if backoff.Steps == 0 {
		backoff = DefaultBackoff
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithJobs(jobs),
		remote.WithRetryBackoff(backoff),
		remote.WithUserAgent("nixdock"),
	}
	if r.Transport != nil {
		opts = append(opts, remote.WithTransport(r.Transport))
	}
	return append(opts, remote.WithAuthFromKeychain(r.Keychain()))
}

// Keychain is how this registry authenticates, the one way for every
// request (pushes, signatures, and the pull of an image's source): Auth for
// AuthRegistry, else the Docker config keychain, then GitHubToken for
// ghcr.io.
func (r Registry) Keychain() authn.Keychain {
	kc := authn.NewMultiKeychain(authn.DefaultKeychain, githubKeychain{token: r.GitHubToken, actor: r.GitHubActor})
	if r.Auth == nil {
		return kc
	}
	return givenKeychain{auth: r.Auth, registry: r.AuthRegistry, fallback: kc}
}

// givenKeychain answers with the credentials the user gave for their
// registry, and asks fallback about any other.
type givenKeychain struct {
	auth     authn.Authenticator
	registry string
	fallback authn.Keychain
}

func (k givenKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if k.registry == "" || res.RegistryStr() == k.registry {
		return k.auth, nil
	}
	return k.fallback.Resolve(res)
}

// githubKeychain answers for ghcr.io with a GitHub token. ghcr.io accepts
// any user name with a token; the actor is what `docker login` in Actions
// uses.
type githubKeychain struct{ token, actor string }

func (k githubKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if k.token == "" || res.RegistryStr() != "ghcr.io" {
		return authn.Anonymous, nil
	}
	user := k.actor
	if user == "" {
		user = "x-access-token"
	}
	return &authn.Basic{Username: user, Password: k.token}, nil
}

// PushOptions tune Push.
type PushOptions struct {
	Registry Registry
	// Progress, when set, is called as bytes are sent (done of total);
	// calls are throttled to whole percents.
	Progress func(done, total int64)
}

// PushResult is what was pushed.
type PushResult struct {
	// Ref is the repository at the pushed manifest digest.
	Ref    name.Digest
	Digest v1.Hash
}

// BlobError is a push that failed while a blob was being uploaded; it
// names the blob so that a rerun (which skips what is present) can be
// checked against it.
type BlobError struct {
	Digest v1.Hash
	// What is "layer 2 of 5" or "config".
	What string
	Size int64
	Err  error
}

func (e *BlobError) Error() string {
	return fmt.Sprintf("uploading blob %s (%s, %d bytes): %v", e.Digest, e.What, e.Size, e.Err)
}

func (e *BlobError) Unwrap() error { return e.Err }

// Push uploads img to dst (a tag or a digest reference) and returns the
// digest reference. The manifest digest is img's own: it was computed
// before anything was sent, so it equals what the build record says.
// Blobs the registry has already are not sent again.
func Push(ctx context.Context, img v1.Image, dst string, opts PushOptions) (*PushResult, error) {
	ref, err := opts.Registry.ParseReference(dst)
	if err != nil {
		return nil, err
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing manifest digest: %w", err)
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != digest.String() {
		return nil, fmt.Errorf("reference %s names digest %s, but the image's manifest digest is %s", dst, d.DigestStr(), digest)
	}
	tracked, err := track(img)
	if err != nil {
		return nil, err
	}
	ropts := opts.Registry.RemoteOptions(ctx)
	var wg sync.WaitGroup
	if opts.Progress != nil {
		updates := make(chan v1.Update, 64)
		ropts = append(ropts, remote.WithProgress(updates))
		wg.Add(1)
		go func() {
			defer wg.Done()
			relay(updates, opts.Progress)
		}()
	}
	err = remote.Write(ref, tracked, ropts...)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("pushing to %s: %w", ref, tracked.explain(err))
	}
	return &PushResult{Ref: ref.Context().Digest(digest.String()), Digest: digest}, nil
}

// relay forwards progress updates, once per whole percent.
func relay(updates <-chan v1.Update, f func(done, total int64)) {
	last := int64(-1)
	for u := range updates {
		if u.Error != nil || u.Total == 0 {
			continue
		}
		pct := u.Complete * 100 / u.Total
		if pct != last {
			last = pct
			f(u.Complete, u.Total)
		}
	}
}

// trackedImage wraps an image to know which blobs were being read (that
// is, sent) when a push failed: go-containerregistry's errors name the
// upload URL, not the blob.
type trackedImage struct {
	v1.Image
	layers []*trackedLayer
	config *trackedLayer
}

type trackedLayer struct {
	v1.Layer
	what   string
	digest v1.Hash
	size   int64

	mu       sync.Mutex
	open     int  // readers not yet at EOF or closed
	finished bool // a reader reached EOF
}

func track(img v1.Image) (*trackedImage, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading layers: %w", err)
	}
	t := &trackedImage{Image: img}
	for i, l := range ls {
		tl, err := newTracked(l, fmt.Sprintf("layer %d of %d", i+1, len(ls)))
		if err != nil {
			return nil, fmt.Errorf("reading layer %d: %w", i, err)
		}
		t.layers = append(t.layers, tl)
	}
	cl, err := partial.ConfigLayer(img)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if t.config, err = newTracked(cl, "config"); err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return t, nil
}

func newTracked(l v1.Layer, what string) (*trackedLayer, error) {
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	size, err := l.Size()
	if err != nil {
		return nil, err
	}
	return &trackedLayer{Layer: l, what: what, digest: d, size: size}, nil
}

func (t *trackedImage) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(t.layers))
	for i, l := range t.layers {
		out[i] = l
	}
	return out, nil
}

// ConfigLayer makes go-containerregistry upload the tracked config blob.
func (t *trackedImage) ConfigLayer() (v1.Layer, error) { return t.config, nil }

func (t *trackedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	for _, l := range append(t.layers, t.config) {
		if l.digest == h {
			return l, nil
		}
	}
	return t.Image.LayerByDigest(h)
}

// explain wraps err with the blobs whose upload had started and not
// finished, or says the manifest failed when every blob was sent.
func (t *trackedImage) explain(err error) error {
	var broken []*trackedLayer
	for _, l := range append(t.layers, t.config) {
		l.mu.Lock()
		if l.open > 0 && !l.finished {
			broken = append(broken, l)
		}
		l.mu.Unlock()
	}
	if len(broken) == 0 {
		return err
	}
	// The blob whose request failed last (named in err's URL) first, then
	// by digest.
	msg := err.Error()
	sort.Slice(broken, func(i, j int) bool {
		ai, aj := strings.Contains(msg, broken[i].digest.String()), strings.Contains(msg, broken[j].digest.String())
		if ai != aj {
			return ai
		}
		return broken[i].digest.String() < broken[j].digest.String()
	})
	be := &BlobError{Digest: broken[0].digest, What: broken[0].what, Size: broken[0].size, Err: err}
	if len(broken) == 1 {
		return be
	}
	var others []string
	for _, l := range broken[1:] {
		others = append(others, l.digest.String())
	}
	return fmt.Errorf("%w (also in flight: %s)", be, strings.Join(others, ", "))
}

func (l *trackedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.mu.Unlock()
	return &trackedReader{rc: rc, l: l}, nil
}

type trackedReader struct {
	rc io.ReadCloser
	l  *trackedLayer
}

func (r *trackedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if errors.Is(err, io.EOF) {
		r.l.mu.Lock()
		r.l.finished = true
		r.l.mu.Unlock()
	}
	return n, err
}

// Close keeps the blob counted as in flight unless it was read to the end:
// go-containerregistry closes the body when the request fails.
func (r *trackedReader) Close() error {
	return r.rc.Close()
}
