package image

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/nixdock/nixdock-action/internal/storepath"

	"github.com/nixdock/nixdock-action/internal/childenv"
)

// Form is how an image reached nixdock.
type Form string

// The image forms Open understands.
const (
	FormArchive   Form = "docker-archive"
	FormStream    Form = "stream"
	FormOCILayout Form = "oci-layout"
	FormRegistry  Form = "registry"
	// FormNix2container is the JSON file nix2container's buildImage writes;
	// its layers are re-created from the store paths it lists.
	FormNix2container Form = "nix2container"
)

// Options tune Open.
type Options struct {
	// TempDir holds spooled archives; empty is os.TempDir().
	TempDir string
	// StoreRoot is the root of a chroot Nix store (such as /tmp/storeB)
	// whose store paths a stream script refers to.
	StoreRoot string
	// Stderr receives a stream script's own messages.
	Stderr io.Writer
	// Insecure allows plain HTTP to registries that are not on loopback.
	Insecure bool
	// Keychain authenticates registry pulls; nil is the Docker config
	// keychain. Callers that push pass their registry's keychain, so that
	// one configuration covers the pull and the push.
	Keychain authn.Keychain
	// Remote are extra options for registry access (transport).
	Remote []remote.Option
	// MaxSpool bounds the bytes written to TempDir for one image (a
	// decompressed archive or a stream script's output); 0 is
	// DefaultMaxSpool. It stops a decompression bomb from filling the disk.
	MaxSpool int64
	// NoExec refuses to run a stream script (ErrExecRefused): for a path
	// that a file names (a build record's out path), not the user.
	NoExec bool
}

// Image is an opened image: a v1.Image plus where it came from.
type Image struct {
	v1.Image
	Form   Form
	Source string
	// RepoTags are the names a docker-archive's manifest.json gives the
	// image ("hello:1.0"), for SBOMs that name it.
	RepoTags []string
	close    func() error
}

// Close releases temporary files and open archives.
func (i *Image) Close() error {
	if i.close == nil {
		return nil
	}
	return i.close()
}

// ErrNotImage marks a source that is none of the forms nixdock opens.
var ErrNotImage = errors.New("not an image")

// ErrExecRefused marks a stream script that Options.NoExec kept from
// running.
var ErrExecRefused = errors.New("not running a program that the user did not name")

// Open opens src, which is a docker-archive file (.tar, .tar.gz, .tar.zst),
// a stream script, an OCI layout directory, nix2container's image JSON or a
// registry reference.
func Open(ctx context.Context, src string, opts Options) (*Image, error) {
	fi, err := os.Stat(src)
	switch {
	case err == nil && fi.IsDir():
		return openLayout(src)
	case err == nil && !fi.Mode().IsRegular():
		// Opening a FIFO with no writer blocks forever, and a device
		// reads without end: only regular files and directories are
		// images.
		return nil, fmt.Errorf("%w: %s is %s, not a regular file or a directory", ErrNotImage, src, FileKind(fi.Mode()))
	case err == nil:
		return openFile(ctx, src, fi, opts)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("opening %s: %w", src, err)
	}
	ref, perr := name.ParseReference(src, nameOptions(opts)...)
	if isPathLike(src) {
		return nil, fmt.Errorf("%w: %s: no such file or directory", ErrNotImage, src)
	}
	if perr != nil || !looksLikeReference(src) {
		return nil, fmt.Errorf("%w: %s is neither a file nor a registry reference", ErrNotImage, src)
	}
	return openRemote(ctx, ref, opts)
}

// FileKind names the kind of file m is, for messages: "a named pipe",
// "a character device".
func FileKind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// isPathLike reports whether s can only be a file path: registry
// references never start with "/" or ".".
func isPathLike(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~")
}

func looksLikeReference(s string) bool {
	for _, c := range s {
		if c == '/' || c == ':' || c == '@' {
			return true
		}
	}
	return false
}

func nameOptions(opts Options) []name.Option {
	if opts.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func openLayout(dir string) (*Image, error) {
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("%w: directory %s is not an OCI image layout (no oci-layout file)", ErrNotImage, dir)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrBadArchive, dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w %s: index.json: %v", ErrBadArchive, dir, err)
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("%w %s: index.json lists %d manifests, want 1", ErrBadArchive, dir, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrBadArchive, dir, err)
	}
	return &Image{Image: img, Form: FormOCILayout, Source: dir}, nil
}

func openRemote(ctx context.Context, ref name.Reference, opts Options) (*Image, error) {
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
	}, opts.Remote...)
	img, err := remote.Image(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	return &Image{Image: img, Form: FormRegistry, Source: ref.String()}, nil
}

// ErrStoreNeeded marks a stream script whose store paths are not on this
// machine: it comes from a chroot store that was not given.
var ErrStoreNeeded = errors.New("the image's store is needed")

// storeRootFor is the chroot store root src is read against: the store it
// lies in (a path under ROOT/nix/store), else opts.StoreRoot. An image is
// never resolved through another image's store: a root given for a file
// that lies in a different store is an error.
func storeRootFor(src string, opts Options) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	derived := storepath.RootOf(abs)
	given := filepath.Clean(opts.StoreRoot)
	switch {
	case derived == "":
		return opts.StoreRoot, nil
	case opts.StoreRoot != "" && derived != given:
		return "", fmt.Errorf("%s lies in the Nix store under %s, but the store under %s was given for it: each image is read against its own store", src, derived, given)
	}
	return derived, nil
}

// openFile opens a docker-archive in place, or spools a compressed archive or
// a stream script's output to an unlinked temporary file first.
func openFile(ctx context.Context, src string, fi os.FileInfo, opts Options) (*Image, error) {
	root, err := storeRootFor(src, opts)
	if err != nil {
		return nil, err
	}
	opts.StoreRoot = root
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", src, err)
	}
	br := bufio.NewReader(f)
	head, _ := br.Peek(512)
	form := FormArchive
	var spooled *os.File
	switch {
	case len(head) >= 2 && string(head[:2]) == "#!":
		f.Close()
		if fi.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("%w: %s starts with #! but is not executable", ErrNotImage, src)
		}
		if opts.NoExec {
			return nil, fmt.Errorf("%w: %s is a stream script", ErrExecRefused, src)
		}
		form = FormStream
		spooled, err = runStream(ctx, src, opts)
	case sniff(br) != "none":
		spooled, err = spool(ctx, br, opts)
		f.Close()
		if err != nil {
			err = spoolFailed(src, "decompressing", err)
		}
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		// Read in place, from the start (the sniffing above read ahead).
		spooled = f
		_, err = f.Seek(0, io.SeekStart)
	case startsWithBrace(head):
		f.Close()
		return openNix2container(src, opts)
	default:
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a docker-archive (.tar, .tar.gz, .tar.zst), a stream script, an OCI layout or a nix2container JSON", ErrNotImage, src)
	}
	if err != nil {
		return nil, err
	}
	a, err := indexArchive(src, spooled)
	if err != nil {
		spooled.Close()
		return nil, err
	}
	img, err := a.image()
	if err != nil {
		spooled.Close()
		return nil, err
	}
	return &Image{Image: img, Form: form, Source: src, RepoTags: a.repoTags, close: spooled.Close}, nil
}

// missingStorePath is the first store path that script names (in its
// first MiB: the #! interpreter, the closure it packs) which is missing
// from the store it runs against, else "".
func missingStorePath(script, root string) string {
	f, err := os.Open(script)
	if err != nil {
		return ""
	}
	defer f.Close()
	head, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	text := string(head)
	for {
		i := strings.Index(text, storepath.Dir+"/")
		if i < 0 {
			return ""
		}
		text = text[i:]
		if sp := storepath.Of(cutName(text)); sp != "" {
			if _, err := os.Lstat(filepath.Join(root, sp)); err != nil {
				return sp
			}
		}
		text = text[len(storepath.Dir)+1:]
	}
}

// cutName cuts s at the first character that cannot be in a store path.
func cutName(s string) string {
	if i := strings.IndexAny(s, " \t\n\"'`;:()<>|&$"); i >= 0 {
		return s[:i]
	}
	return s
}

// startsWithBrace reports whether head is a JSON object's start.
func startsWithBrace(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// spool decompresses r into an unlinked temporary file of at most
// opts.MaxSpool bytes.
func spool(ctx context.Context, r io.Reader, opts Options) (*os.File, error) {
	rc, err := decompressed(r)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(opts.TempDir, "nixdock-archive-*.tar")
	if err != nil {
		return nil, diskFull(opts.TempDir, err)
	}
	os.Remove(tmp.Name()) // the open file stays readable; nothing is left behind
	if _, err := io.Copy(NewSpoolLimit(opts.MaxSpool).Writer(tmp), ContextReader(ctx, rc)); err != nil {
		tmp.Close()
		return nil, diskFull(opts.TempDir, err)
	}
	// The archive is indexed from its start.
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, err
	}
	return tmp, nil
}

// spoolFailed says why spooling src failed: a full disk or an interrupt
// as such, anything else (a bad stream, the limit) as a bad archive.
func spoolFailed(src, doing string, err error) error {
	if errors.Is(err, ErrDiskFull) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", doing, src, err)
	}
	return fmt.Errorf("%w %s: %s: %v", ErrBadArchive, src, doing, err)
}

// runStream runs a streamLayeredImage script and spools its stdout. For a
// chroot store the script runs in a private mount namespace in which the
// store's /nix/store is bind-mounted over /nix/store, since its paths refer
// to /nix/store.
func runStream(ctx context.Context, script string, opts Options) (*os.File, error) {
	tmp, err := os.CreateTemp(opts.TempDir, "nixdock-stream-*.tar")
	if err != nil {
		return nil, diskFull(opts.TempDir, err)
	}
	os.Remove(tmp.Name())
	var cmd *exec.Cmd
	if opts.StoreRoot != "" {
		cmd = exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
			`mount --bind "$1/nix/store" /nix/store && exec "$2"`, "sh", opts.StoreRoot, script)
	} else {
		cmd = exec.CommandContext(ctx, script)
	}
	// The script is a program from the store: it gets no secret of ours.
	cmd.Env = childenv.Environ(nil)
	out := &limitWriter{w: tmp, lim: NewSpoolLimit(opts.MaxSpool)}
	cmd.Stdout = out
	cmd.Stderr = opts.Stderr
	if err := cmd.Run(); err != nil {
		tmp.Close()
		if out.exceeded {
			return nil, fmt.Errorf("%w %s: its output is %v", ErrBadArchive, script, errSpoolLimit{out.lim.max})
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("running stream script %s: %w", script, ctx.Err())
		}
		if df := diskFull(opts.TempDir, out.err); errors.Is(df, ErrDiskFull) {
			return nil, fmt.Errorf("running stream script %s: %w", script, df)
		}
		if missing := missingStorePath(script, opts.StoreRoot); missing != "" {
			return nil, fmt.Errorf("%w: stream script %s needs %s, which is not in the Nix store it ran against: the script comes from another store; give that store's root",
				ErrStoreNeeded, script, missing)
		}
		return nil, fmt.Errorf("running stream script %s: %w", script, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, err
	}
	// Some stream scripts compress their output.
	br := bufio.NewReader(tmp)
	if sniff(br) != "none" {
		out, err := spool(ctx, br, opts)
		tmp.Close()
		if err != nil {
			return nil, spoolFailed(script, "decompressing the output of", err)
		}
		return out, nil
	}
	// Sniffing read ahead: index from the start.
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, err
	}
	return tmp, nil
}
