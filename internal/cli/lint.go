package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nixdock/nixdock-action/lint"
	"github.com/spf13/cobra"
)

func init() { register(newLintCmd) }

type lintFlags struct {
	json, sarif, markdown bool
	storeRoot             string
	insecure              bool
	artifact              string
	sourceDateEpoch       string
	minWaste              int64
}

func newLintCmd(a *app) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint IMAGE",
		Short: "Find the mistakes that make a Nix image broken, bloated or unreproducible",
		Long: `Lint an image (docker-archive .tar/.tar.gz/.tar.zst, stream script, OCI layout
or registry reference): config keys and values Nix passes through unchecked,
runtime files programs need (CA certificates, /etc/services, nsswitch.conf,
passwd, a locale archive, /tmp), wasted bytes, and reproducibility hazards.
Each layer is read once. The rules are listed in docs/lint.md.

Exit status: 0 no errors or warnings (notes allowed), 1 findings, 2 usage
error, 3 failure.`,
		Example: `  nixdock lint result
  nixdock lint image.tar.gz --json
  nixdock lint ./result --sarif --artifact flake.nix > lint.sarif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLint(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print the findings as JSON (schema nixdock.dev/lint/v1)")
	fl.BoolVar(&f.sarif, "sarif", false, "print the findings as SARIF 2.1.0, for GitHub code scanning")
	fl.BoolVar(&f.markdown, "markdown", false, "print the findings as Markdown, for a job summary")
	fl.StringVar(&f.artifact, "artifact", "", "the file SARIF results point at, such as flake.nix (default: the image file's name)")
	fl.StringVar(&f.sourceDateEpoch, "source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "a date (seconds) created and mtimes may have besides the epoch (default $SOURCE_DATE_EPOCH)")
	fl.Int64Var(&f.minWaste, "min-waste", 64<<10, "report duplicated files that waste at least this many bytes")
	fl.StringVar(&f.storeRoot, "store", "", "chroot Nix store (such as /tmp/storeB) a stream script's paths are in")
	fl.StringVar(&f.storeRoot, "store-root", "", "the same as --store (kept for compatibility)")
	_ = fl.MarkHidden("store-root")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	return cmd
}

func (a *app) runLint(cmd *cobra.Command, src string, f lintFlags) error {
	n := 0
	for _, b := range []bool{f.json, f.sarif, f.markdown} {
		if b {
			n++
		}
	}
	if n > 1 {
		return usageError("--json, --sarif and --markdown are exclusive: pick one")
	}
	opts, err := a.lintOptions(f.artifact, f.sourceDateEpoch)
	if err != nil {
		return usageError("--source-date-epoch %s", err)
	}
	opts.MinWaste = f.minWaste
	img, err := a.openImage(cmd.Context(), imageSource{src: src, store: f.storeRoot, insecure: f.insecure})
	if err != nil {
		return failure(err)
	}
	defer img.Close()
	res, err := lint.Run(cmd.Context(), img, opts)
	if err != nil {
		return failure(fmt.Errorf("linting %s: %w", src, err))
	}
	// Clear a progress line on a terminal before the report.
	_, _ = a.ui.logWriter().Write(nil)
	write := res.WriteText
	switch {
	case f.json:
		write = res.WriteJSON
	case f.sarif:
		write = res.WriteSARIF
	case f.markdown:
		write = res.WriteMarkdown
	}
	if err := write(a.ui.Out); err != nil {
		return failure(err)
	}
	if res.Failed() {
		return errDiffers
	}
	return nil
}

// lintOptions are the lint options of `nixdock lint` and the Action: SARIF
// results point at artifact, progress goes to the log, and sde (seconds,
// "" for none) is the date besides the epoch that dates may have. With a
// bad sde, the options come back without it, and the error.
func (a *app) lintOptions(artifact, sde string) (lint.Options, error) {
	uri, text := sarifArtifact(artifact)
	opts := lint.Options{ArtifactURI: uri, ArtifactText: text, Progress: func(s string) { a.ui.Progress("%s", s) }}
	if sde == "" {
		return opts, nil
	}
	sec, err := strconv.ParseInt(sde, 10, 64)
	if err != nil {
		return opts, fmt.Errorf("%q: want seconds since the epoch", sde)
	}
	opts.SourceDateEpoch = &sec
	return opts, nil
}

// sarifArtifact is what SARIF results point at for the file given: its
// path relative to the repository it is in (the nearest directory above
// with .git, as code scanning resolves URIs against the repository root),
// and its text when it is a readable file of at most 1 MiB, so results can
// point at the line that names what they are about.
func sarifArtifact(file string) (uri, text string) {
	if file == "" {
		return "", ""
	}
	uri = filepath.ToSlash(file)
	abs, err := filepath.Abs(file)
	if _, serr := os.Stat(file); err != nil || serr != nil {
		return uri, "" // a name only: kept as given
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				uri = filepath.ToSlash(rel)
			}
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	// Stat first: opening a FIFO would block.
	if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
		return uri, ""
	}
	f, err := os.Open(file)
	if err != nil {
		return uri, ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return uri, ""
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return uri, ""
	}
	return uri, string(data)
}
