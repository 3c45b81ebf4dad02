package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/humanize"
	"github.com/nixdock/nixdock-action/publish"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/cobra"
)

func init() { register(newPushCmd) }

type registryFlags struct {
	insecure      bool
	username      string
	passwordStdin bool
}

func (f *registryFlags) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	cmd.Flags().StringVar(&f.username, "username", "", "registry user name (with --password-stdin); default: the Docker config keychain, GITHUB_TOKEN for ghcr.io")
	cmd.Flags().BoolVar(&f.passwordStdin, "password-stdin", false, "read the registry password from stdin")
}

// registry is how the command reaches registries: --username with the
// password from stdin, else the Docker config keychain and, for ghcr.io,
// GITHUB_TOKEN (read here, handed down as a value).
func (f *registryFlags) registry(cmd *cobra.Command) (sign.Registry, error) {
	r := sign.Registry{Insecure: f.insecure, GitHubToken: os.Getenv("GITHUB_TOKEN"), GitHubActor: os.Getenv("GITHUB_ACTOR")}
	switch {
	case f.passwordStdin && f.username == "":
		return r, usageError("--password-stdin needs --username")
	case f.username != "" && !f.passwordStdin:
		return r, usageError("--username needs --password-stdin (passwords are never taken as flags)")
	case f.username == "":
		return r, nil
	}
	data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<16))
	if err != nil {
		return r, failure(fmt.Errorf("reading the password from stdin: %w", err))
	}
	r.Auth = &authn.Basic{Username: f.username, Password: strings.TrimRight(string(data), "\r\n")}
	return r, nil
}

type pushFlags struct {
	reg         registryFlags
	compression string
	record      string
}

func newPushCmd(a *app) *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push IMAGE REF",
		Short: "Push an image (archive, stream script, OCI layout, registry) and print REF@sha256:...",
		Long: `Push IMAGE (a docker-archive .tar/.tar.gz/.tar.zst, a stream script, an OCI
layout or a registry reference) to REF. The manifest digest is computed before
anything is sent: it is the build record's manifestDigest for the same
compression. Blobs go up in parallel with retries; blobs the registry has are
skipped, so a push that failed completes when rerun. The last line on stdout
is the pushed repository@sha256:... reference.`,
		Example: `  nixdock push result 127.0.0.1:5000/hello:latest
  nixdock push result ghcr.io/me/hello:v1 --record record.json
  echo "$TOKEN" | nixdock push img.tar.zst registry.example/hello:1 --username me --password-stdin`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runPush(cmd, args[0], args[1], f)
		},
	}
	f.reg.bind(cmd)
	cmd.Flags().StringVar(&f.compression, "compression", "", "layer compression for archives and stream scripts: gzip, zstd or none (default: the record's, else gzip)")
	cmd.Flags().StringVar(&f.record, "record", "", "build record whose manifestDigest the pushed image must have")
	return cmd
}

func (a *app) runPush(cmd *cobra.Command, src, dst string, f pushFlags) error {
	reg, err := f.reg.registry(cmd)
	if err != nil {
		return err
	}
	var rec *record.Record
	if f.record != "" {
		if rec, err = record.Read(f.record); err != nil {
			return failure(err)
		}
	}
	compression := f.compression
	if compression == "" && rec != nil && rec.Image.Compressor.Name != "as-published" {
		compression = rec.Image.Compressor.Name
	}
	if compression == "" {
		compression = "gzip"
	}
	comp, err := image.ParseCompression(compression)
	if err != nil {
		return usageError("--compression %s", err)
	}
	ref, err := reg.ParseReference(dst)
	if err != nil {
		return failure(err)
	}
	// --username is for REF's registry; an IMAGE in the same registry is
	// pulled with it too (one keychain for the pull and the push).
	reg.AuthRegistry = ref.Context().RegistryStr()
	ctx := cmd.Context()
	img, err := image.Open(ctx, src, image.Options{Insecure: f.reg.insecure, Keychain: reg.Keychain(), Stderr: a.ui.logWriter()})
	if err != nil {
		return failure(err)
	}
	defer img.Close()
	// Each layer is compressed once and sent as soon as it is (the
	// others compressing meanwhile); the manifest goes last.
	var mu sync.Mutex
	compressed, sent, total := 0, 0, 0
	progress := func() {
		a.ui.Progress("compressing and sending layers: %d compressed, %d sent of %d", compressed, sent, total)
	}
	res, err := publish.PushImage(ctx, publish.PushImageRequest{
		Image: img, Compression: comp, Destination: ref, Record: rec, Registry: reg,
		OnLayer: func(done, n int) {
			mu.Lock()
			defer mu.Unlock()
			compressed, total = done, n
			progress()
		},
		OnUploaded: func(done int) {
			mu.Lock()
			defer mu.Unlock()
			sent = done
			progress()
		},
		Progress: a.pushProgress(dst),
	})
	var mismatch *publish.RecordMismatchError
	if errors.As(err, &mismatch) {
		return failure(fmt.Errorf("%s has manifest digest %s (%s), but record %s says %s (%s): not pushing an image the record does not describe",
			src, mismatch.Digest, mismatch.Compressor, f.record, mismatch.Record, mismatch.RecordCompressor))
	} else if err != nil {
		return failure(err)
	}
	a.ui.Infof("pushed %s (%d layers, %s)", res.Ref, len(res.Digests.Layers), res.Digests.Compressor.Name)
	if err := a.printResult(res.Ref.String()); err != nil {
		return err
	}
	return nil
}

// pushProgress reports a push to dst: one line per 10% in logs, every
// percent on a terminal.
func (a *app) pushProgress(dst string) func(done, total int64) {
	lastTenth := int64(-1)
	return func(done, total int64) {
		if tenth := done * 10 / total; a.ui.TTY || tenth != lastTenth {
			lastTenth = tenth
			a.ui.Progress("pushing %s: %d%% (%s of %s)", dst, done*100/total, humanize.Bytes(done), humanize.Bytes(total))
		}
	}
}
