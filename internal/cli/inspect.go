package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/nixdock/nixdock-action/image"
	"github.com/spf13/cobra"
)

func init() { register(newInspectCmd) }

// InspectSchema identifies `nixdock inspect --json` output; see docs/cli.md.
const InspectSchema = "nixdock.dev/inspect/v1"

type inspectFlags struct {
	json        bool
	compression string
	store       string
	insecure    bool
}

// inspectReport is the --json document.
type inspectReport struct {
	Schema string        `json:"schema"`
	Source string        `json:"source"`
	Image  image.Digests `json:"image"`
}

func newInspectCmd(a *app) *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Open an image in any form and print its digests",
		Long: `Open an image (docker-archive .tar/.tar.gz/.tar.zst, stream script,
nix2container's image JSON, OCI layout directory or registry reference; a
file under ROOT/nix/store is read against that chroot store), check every layer against the
config's diff_ids, and print the digests it would be published with: the
manifest and config digests, and each layer's diff_id and compressed digest.`,
		Example: `  nixdock inspect result
  nixdock inspect ./image.tar.gz --compression zstd --json
  nixdock inspect /tmp/storeB/nix/store/...-stream-hello --store /tmp/storeB
  nixdock inspect localhost:5000/hello@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runInspect(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print the digests as JSON on stdout")
	fl.StringVar(&f.compression, "compression", "gzip", "layer compression for the manifest digest of archives and stream scripts: gzip, zstd or none")
	fl.StringVar(&f.store, "store", "", "chroot Nix store (such as /tmp/storeB) whose paths a stream script refers to")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	return cmd
}

func (a *app) runInspect(cmd *cobra.Command, src string, f inspectFlags) error {
	comp, err := image.ParseCompression(f.compression)
	if err != nil {
		return usageError("--compression %s", err)
	}
	ctx := cmd.Context()
	img, err := a.openImage(ctx, imageSource{src: src, store: f.store, insecure: f.insecure})
	if err != nil {
		return failure(err)
	}
	defer img.Close()
	_, d, err := image.Describe(ctx, img, image.DescribeOptions{
		Compression: comp,
		OnLayer: func(done, total int) {
			// One line per layer would flood a CI log; a terminal redraws.
			if a.ui.TTY {
				a.ui.Progress("digested layer %d/%d", done, total)
			}
		},
	})
	if err != nil {
		return failure(err)
	}
	if f.json {
		data, err := json.MarshalIndent(inspectReport{Schema: InspectSchema, Source: src, Image: d}, "", "  ")
		if err != nil {
			return failure(err)
		}
		_, err = a.ui.Out.Write(append(data, '\n'))
		return err
	}
	return a.printDigests(src, d)
}

func (a *app) printDigests(src string, d image.Digests) error {
	if a.ui.TTY {
		// Clear the redrawn progress line before the report.
		fmt.Fprint(a.ui.Err, "\r\033[K")
	}
	w := tabwriter.NewWriter(a.ui.Out, 0, 4, 2, ' ', 0)
	fprintf(w, "image\t%s (%s)\n", src, d.Form)
	fprintf(w, "manifest\t%s (%d bytes, %s)\n", d.ManifestDigest, d.ManifestSize, d.MediaType)
	fprintf(w, "config\t%s (%d bytes)\n", d.ConfigDigest, d.ConfigSize)
	if d.Created != "" {
		fprintf(w, "created\t%s\n", d.Created)
	}
	comp := d.Compressor.Name
	if d.Compressor.Library != "" {
		comp += fmt.Sprintf(" (%s, level %d)", d.Compressor.Library, d.Compressor.Level)
	}
	fprintf(w, "compressor\t%s\n", comp)
	fprintf(w, "layers\t%d\n", len(d.Layers))
	w.Flush()
	w = tabwriter.NewWriter(a.ui.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "#\tDIFF_ID\tDIGEST\tSIZE")
	for i, l := range d.Layers {
		fprintf(w, "%d\t%s\t%s\t%d\n", i, l.DiffID, l.Digest, l.Size)
	}
	return w.Flush()
}
