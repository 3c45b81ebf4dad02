package cli

import (
	"context"
	"os/exec"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/verify"
	"github.com/spf13/cobra"
)

func init() { register(newDiffCmd) }

type diffFlags struct {
	report  reportFlags
	records []string
	stores  []string
	options []string
	noNix   bool
}

func newDiffCmd(a *app) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff IMAGE_A IMAGE_B",
		Short: "Diff two images down to files, store paths and causes",
		Long: `Diff two images in any form nixdock opens: a docker-archive (.tar, .tar.gz,
.tar.zst), a streamLayeredImage script, nix2container's buildImage JSON
(layers re-created from the store and checked against its diff_ids), an OCI
layout directory, or a registry reference. It compares every config field,
and the layers as tar streams (presence, type, mode, owner, mtime, size, link
target, xattrs/PAX records, content, position). Every layer is read and
hashed first (a layer changed under its diff_id is exit 3); layer pairs with
equal diff_ids are not diffed. Each image is read against its own Nix store:
a file under ROOT/nix/store against ROOT, else --store (once for both, or
once per image). Each differing file is attributed to its Nix store path and deriver
(from --record files, or by asking Nix), with the likely cause and the
command that confirms it.

Exit codes: 0 identical, 1 differ, 2 usage, 3 failure.`,
		Example: `  nixdock diff a.tar b.tar
  nixdock diff ./result registry.example/app:1.0 --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDiff(cmd.Context(), args, f)
		},
	}
	f.report.bind(cmd)
	cmd.Flags().StringArrayVar(&f.records, "record", nil, "build record of each image, to name derivers (repeatable, in order)")
	cmd.Flags().StringArrayVar(&f.stores, "store", nil, "chroot Nix store of the images (once for both, or once per image in order); a file under ROOT/nix/store is read against ROOT by itself")
	cmd.Flags().StringArrayVar(&f.options, "nix-option", nil, "NAME=VALUE passed to Nix as --option (repeatable); substituters are off unless given")
	cmd.Flags().BoolVar(&f.noNix, "no-nix", false, "do not ask Nix for the derivers of culprit store paths")
	return cmd
}

func (a *app) runDiff(ctx context.Context, args []string, f diffFlags) error {
	if err := f.report.check(); err != nil {
		return err
	}
	if len(f.records) > 2 {
		return usageError("--record given %d times: give at most one per image", len(f.records))
	}
	opts := verify.Options{OnLayer: a.layerProgress}
	for _, p := range f.records {
		r, err := record.Read(p)
		if err != nil {
			return failure(err)
		}
		opts.Records = append(opts.Records, r)
	}
	if len(f.stores) > 2 {
		return usageError("--store given %d times: give it once, or once per image", len(f.stores))
	}
	stores := [2]string{}
	for i := range stores {
		if len(f.stores) > 0 {
			stores[i] = f.stores[min(i, len(f.stores)-1)]
		}
	}
	if _, err := exec.LookPath("nix"); err == nil && !f.noNix {
		// Nix is asked only about the local store it is given, never a
		// substituter (the store paths of a diff are all local).
		nixOpts := []nix.Option{{Name: "substituters", Value: ""}}
		for _, o := range f.options {
			opt, err := nix.ParseOption(o)
			if err != nil {
				return usageError("--nix-option %s", err)
			}
			nixOpts = append(nixOpts, opt)
		}
		opts.Nix = &nix.Runner{Store: stores[0], Options: nixOpts}
	}
	var imgs [2]*image.Image
	for i, src := range args {
		a.ui.Progress("opening %s", src)
		img, err := a.openImage(ctx, imageSource{src: src, store: stores[i]})
		if err != nil {
			return failure(err)
		}
		defer img.Close()
		imgs[i] = img
	}
	rep, err := verify.Images(ctx, imgs[0], imgs[1], opts)
	if err != nil {
		return failure(err)
	}
	return a.writeReport(rep, f.report)
}
