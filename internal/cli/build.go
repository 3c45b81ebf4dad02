package cli

import (
	"context"
	"fmt"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/cobra"
)

func init() { register(newBuildCmd) }

type buildFlags struct {
	nix         nixFlags
	record      string
	json        bool
	compression string
	signRecord  bool
	fulcioURL   string
	rekorURL    string
}

func newBuildCmd(a *app) *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build [FLAKE_REF | -f FILE -A ATTR]",
		Short: "Build an image with Nix and write its build record",
		Long: `Build an image with the Nix on this machine, open the image it produced
(docker-archive, stream script or OCI layout), digest it and query its
closure, and write the build record that another builder's record is
compared with (nixdock verify). --sign-record signs the record keyless with
the GitHub Actions OIDC token into RECORD.sigstore.json, which verify and
sign check with --record-identity and --record-oidc-issuer.`,
		Example: `  nixdock build .#image --record record.json
  nixdock build -f default.nix -A image --store /tmp/storeB --nix-option substituters= --json
  nixdock build .#image --record record.json --sign-record`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runBuild(cmd, args, f)
		},
	}
	f.nix.bind(cmd.Flags())
	cmd.Flags().StringVar(&f.record, "record", "", "write the build record to FILE")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the build record as JSON on stdout")
	cmd.Flags().StringVar(&f.compression, "compression", "gzip", "layer compression for the manifest digest: gzip, zstd or none")
	cmd.Flags().BoolVar(&f.signRecord, "sign-record", false, "sign the record keyless (the GitHub Actions OIDC token) into RECORD.sigstore.json (needs --record)")
	cmd.Flags().StringVar(&f.fulcioURL, "fulcio-url", sign.DefaultFulcioURL, "Fulcio certificate authority (--sign-record)")
	cmd.Flags().StringVar(&f.rekorURL, "rekor-url", sign.DefaultRekorURL, "Rekor transparency log (--sign-record)")
	return cmd
}

func (a *app) runBuild(cmd *cobra.Command, args []string, f buildFlags) error {
	if f.signRecord && f.record == "" {
		return usageError("--sign-record needs --record FILE (the signature is written next to it)")
	}
	opts, err := a.buildOptions(args, f)
	if err != nil {
		return err
	}
	res, err := a.buildImage(cmd.Context(), opts, f.record)
	if err != nil {
		return err
	}
	defer res.Image.Close()
	rec := res.Record
	if f.signRecord {
		out, err := signRecord(cmd.Context(), f.record, sign.KeylessOptions{FulcioURL: f.fulcioURL, RekorURL: f.rekorURL, Mask: a.ui.Mask})
		if err != nil {
			return failure(fmt.Errorf("signing the record: %w", err))
		}
		a.ui.Infof("signed the record: %s", out)
	}
	if f.json {
		data, err := rec.Marshal()
		if err != nil {
			return failure(err)
		}
		_, err = a.ui.Out.Write(data)
		return err
	}
	a.ui.Infof("built %s\n  drv      %s\n  image    %s\n  manifest %s (%d layers, %s)\n  config   %s\n  closure  %d store paths",
		rec.Installable, rec.DrvPath, rec.OutPath, rec.Image.ManifestDigest, len(rec.Image.Layers), rec.Image.Compressor.Name,
		rec.Image.ConfigDigest, len(rec.Closure))
	if f.record != "" {
		a.ui.Infof("  record   %s", f.record)
	}
	return nil
}

// buildOptions turns the flags into the library's options.
func (a *app) buildOptions(args []string, f buildFlags) (build.Options, error) {
	inst, err := f.nix.installable(args)
	if err != nil {
		return build.Options{}, err
	}
	comp, err := image.ParseCompression(f.compression)
	if err != nil {
		return build.Options{}, usageError("--compression %s", err)
	}
	nix, err := f.nix.nix(a)
	if err != nil {
		return build.Options{}, err
	}
	return build.Options{Installable: inst, Nix: nix, Compression: comp}, nil
}

// buildImage builds and digests, and writes the record to recordPath when
// set: the work of `nixdock build` (the Action's build mode calls
// build.Run itself, package action). The caller closes the result's image.
func (a *app) buildImage(ctx context.Context, opts build.Options, recordPath string) (*build.Result, error) {
	opts.NixdockVersion = version.Get().String()
	opts.Progress = func(s string) { a.ui.Progress("%s", s) }
	res, err := build.Run(ctx, opts)
	if err != nil {
		return nil, failure(err)
	}
	if recordPath != "" {
		if err := record.Write(recordPath, res.Record); err != nil {
			res.Image.Close()
			return nil, failure(err)
		}
	}
	return res, nil
}
