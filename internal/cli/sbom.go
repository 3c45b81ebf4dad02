package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sbom"
	"github.com/spf13/cobra"
)

func init() { register(newSBOMCmd) }

type sbomFlags struct {
	nix       nixFlags
	format    string
	output    string
	pretty    bool
	buildtime bool
	meta      string
	image     string
	name      string
	namespace string
	digest    string
	evalMeta  bool
	author    string
	supplier  string
}

func newSBOMCmd(a *app) *cobra.Command {
	var f sbomFlags
	cmd := &cobra.Command{
		Use:   "sbom [SOURCE | FLAKE_REF | -f FILE -A ATTR]",
		Short: "Write an SBOM (SPDX 2.3 or CycloneDX 1.6) of an image's Nix closure",
		Long: `Write an SBOM of the Nix store paths in an image: one component per store
path with its NAR hash, name and version, purl, layers and dependencies.

SOURCE is a build record (nixdock build --record), an image in any form
(docker-archive .tar/.tar.gz/.tar.zst, stream script, nix2container's image
JSON, OCI layout directory, registry reference: no Nix needed, hashes and references are computed from
the layers), or an installable (a flake reference or -f FILE -A ATTR, built
with Nix). The output is deterministic: the same input gives the same bytes.`,
		Example: `  nixdock sbom result --format spdx-json -o sbom.spdx.json
  nixdock sbom record.json --format cyclonedx-json --buildtime --meta meta.json
  nixdock sbom -f default.nix -A image --format spdx-json --pretty
  nixdock sbom .#image --eval-meta --format spdx-json -o sbom.spdx.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSBOM(cmd.Context(), args, f)
		},
	}
	fs := cmd.Flags()
	f.nix.bind(fs)
	fs.StringVar(&f.format, "format", "spdx-json", "spdx-json or cyclonedx-json")
	fs.StringVarP(&f.output, "output", "o", "", "write the SBOM to FILE (default stdout)")
	fs.BoolVar(&f.pretty, "pretty", false, "indent the JSON (default compact)")
	fs.BoolVar(&f.buildtime, "buildtime", false, "add build-time dependencies from the derivation graph (records and installables)")
	fs.StringVar(&f.meta, "meta", "", "merge package metadata (licenses, descriptions) from FILE, the output of nix/sbom-meta.nix")
	fs.StringVar(&f.image, "image", "", "with a record SOURCE: the image, to name the layers holding each store path")
	fs.StringVar(&f.name, "name", "", "the image's reference ([REGISTRY/]REPOSITORY[:TAG][@DIGEST]) in the SBOM and its purl (default: what the image or record names, else the source's base name)")
	fs.StringVar(&f.namespace, "purl-namespace", "", "pkg:nix namespace of packages not known to come from nixpkgs (default none; nixpkgs packages get \"nixpkgs\")")
	fs.BoolVar(&f.evalMeta, "eval-meta", false, "with an installable: evaluate nix/sbom-meta.nix (embedded) for licenses and descriptions, with the same --store and --nix-option")
	fs.StringVar(&f.digest, "manifest-digest", "", "the digest of the image as pushed, which the SBOM then describes")
	fs.StringVar(&f.author, "author", "", "who writes the SBOM, besides nixdock: \"[Person: |Organization: ]NAME [(EMAIL)]\" (default: the tool only)")
	fs.StringVar(&f.supplier, "supplier", "", "who supplies the image, in --author's form (default: the author)")
	return cmd
}

func (a *app) runSBOM(ctx context.Context, args []string, f sbomFlags) error {
	format, err := sbom.ParseFormat(f.format)
	if err != nil {
		return usageError("%s", err)
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	doc, err := a.sbomDocument(ctx, args, f, opts)
	if err != nil {
		return err
	}
	n, err := a.writeSBOM(doc, format, f)
	if err != nil {
		return failure(err)
	}
	for _, w := range doc.Warnings {
		a.ui.Infof("nixdock: warning: %s", w)
	}
	if len(doc.Components) == 0 && f.image == "" && len(args) > 0 {
		if _, isRecord, _ := readRecordIfAny(args[0]); isRecord {
			a.ui.Infof("nixdock: give the image with --image IMAGE to list its store paths")
		}
	}
	dest := ""
	if f.output != "" && f.output != "-" {
		dest = " -> " + f.output
	}
	a.ui.Infof("sbom: %s, %s, %d bytes%s", doc.Summary(), format, n, dest)
	return nil
}

// options turns the flags into sbom.Options.
func (f *sbomFlags) options() (sbom.Options, error) {
	opts, err := sbomOptions(f.name, f.digest)
	if err != nil {
		return opts, err
	}
	opts.BuildTime, opts.PurlNamespace = f.buildtime, f.namespace
	for _, p := range []struct {
		flag, value string
		dest        **sbom.Party
	}{{"--author", f.author, &opts.Author}, {"--supplier", f.supplier, &opts.Supplier}} {
		if p.value == "" {
			continue
		}
		party, err := sbom.ParseParty(p.value)
		if err != nil {
			return opts, failure(fmt.Errorf("%s %w", p.flag, err))
		}
		*p.dest = &party
	}
	if f.meta != "" {
		m, err := sbom.ReadMeta(f.meta)
		if err != nil {
			return opts, failure(err)
		}
		opts.Meta = m
	}
	return opts, nil
}

// sbomOptions are the options every SBOM nixdock writes shares
// (sbom.ToolOptions), the time from SOURCE_DATE_EPOCH.
func sbomOptions(name, digest string) (sbom.Options, error) {
	opts, err := sbom.ToolOptions("nixdock-"+version.Get().Version, name, digest, os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return opts, usageError("%s", err)
	}
	return opts, nil
}

// sbomDocument reads SOURCE as a record, an installable or an image.
func (a *app) sbomDocument(ctx context.Context, args []string, f sbomFlags, opts sbom.Options) (*sbom.Document, error) {
	src := ""
	if len(args) > 0 {
		src = args[0]
	}
	switch {
	case f.nix.file != "" || strings.Contains(src, "#") && !sbomSourceExists(src):
		return a.sbomFromInstallable(ctx, args, f, opts)
	case f.evalMeta:
		return nil, usageError("--eval-meta needs an installable (a flake reference or -f FILE -A ATTR), not %q: for a record or an image, pass --meta FILE", src)
	case src == "":
		return nil, usageError("no SOURCE: give a build record, an image or an installable (-f FILE -A ATTR)")
	}
	if rec, ok, err := readRecordIfAny(src); err != nil {
		return nil, failure(err)
	} else if ok {
		if f.image != "" {
			img, err := a.openImage(ctx, imageSource{src: f.image, store: f.nix.store})
			if err != nil {
				return nil, failure(err)
			}
			defer img.Close()
			opts.Image = img
		}
		doc, err := sbom.FromRecord(rec, opts)
		return doc, failure(err)
	}
	if f.buildtime {
		a.ui.Infof("nixdock: warning: --buildtime needs derivations: an image alone has none, so the SBOM has run-time edges only")
	}
	a.ui.Progress("reading the layers of %s", src)
	img, err := a.openImage(ctx, imageSource{src: src, store: f.nix.store})
	if err != nil {
		return nil, failure(err)
	}
	defer img.Close()
	doc, err := sbom.FromImage(ctx, img, opts)
	return doc, failure(err)
}

func (a *app) sbomFromInstallable(ctx context.Context, args []string, f sbomFlags, opts sbom.Options) (*sbom.Document, error) {
	inst, err := f.nix.installable(args)
	if err != nil {
		return nil, err
	}
	nx, err := f.nix.nix(a)
	if err != nil {
		return nil, err
	}
	res, err := build.Run(ctx, build.Options{
		Installable: inst, Nix: nx, NixdockVersion: version.Get().String(),
		Progress: func(s string) { a.ui.Progress("%s", s) },
	})
	if err != nil {
		return nil, failure(err)
	}
	defer res.Image.Close()
	opts.Image = res.Image
	if f.evalMeta {
		if opts.Meta, err = a.evalSBOMMeta(ctx, nx, inst, opts.Meta); err != nil {
			return nil, failure(err)
		}
	}
	doc, err := sbom.FromRecord(res.Record, opts)
	return doc, failure(err)
}

// evalSBOMMeta applies the embedded nix/sbom-meta.nix to the installable
// and merges the result under extra (--meta FILE wins where both name a .drv).
func (a *app) evalSBOMMeta(ctx context.Context, nx nix.Runner, inst record.Installable, extra sbom.Meta) (sbom.Meta, error) {
	a.ui.Progress("evaluating package metadata of %s", inst)
	out, err := nx.EvalInstallable(ctx, inst, "--apply", nix.SBOMMetaApply())
	var nerr *nix.Error
	if errors.As(err, &nerr) {
		// The command line holds the whole inlined expression: name the
		// helper and keep what Nix said.
		return nil, fmt.Errorf("evaluating nix/sbom-meta.nix for %s failed: %s", inst, strings.TrimSpace(nerr.Stderr))
	}
	if err != nil {
		return nil, fmt.Errorf("evaluating nix/sbom-meta.nix for %s: %w", inst, err)
	}
	m, err := sbom.ParseMeta(out)
	if err != nil {
		return nil, fmt.Errorf("nix/sbom-meta.nix for %s: %w", inst, err)
	}
	for k, v := range extra {
		m[k] = v
	}
	return m, nil
}

// readRecordIfAny reads src as a build record when it is a JSON file with
// the record schema; ok is false for anything else (an image).
func readRecordIfAny(src string) (*record.Record, bool, error) {
	fi, err := os.Stat(src)
	if err != nil || !fi.Mode().IsRegular() {
		// image.Open says what else it is (and refuses a FIFO).
		return nil, false, nil
	}
	fh, err := os.Open(src)
	if err != nil {
		return nil, false, fmt.Errorf("opening %s: %w", src, err)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(fh, head)
	fh.Close()
	trimmed := bytes.TrimSpace(head[:n])
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", src, err)
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, false, fmt.Errorf("%s looks like JSON but is not: %w", src, err)
	}
	if probe.Schema != record.Schema {
		return nil, false, fmt.Errorf("%s is JSON with schema %q, not a build record (%s)", src, probe.Schema, record.Schema)
	}
	rec, err := record.Parse(data)
	if err != nil {
		return nil, false, fmt.Errorf("record %s: %w", src, err)
	}
	return rec, true, nil
}

// writeSBOM encodes doc to -o FILE or stdout and returns the byte count.
func (a *app) writeSBOM(doc *sbom.Document, format sbom.Format, f sbomFlags) (int64, error) {
	var w io.Writer = a.ui.Out
	var file *os.File
	if f.output != "" && f.output != "-" {
		var err error
		if file, err = os.Create(f.output); err != nil {
			return 0, fmt.Errorf("writing the SBOM: %w", err)
		}
		w = file
	}
	// Encode buffers and flushes itself; the counter sees every byte.
	cw := &sbomCounter{w: w}
	err := doc.Encode(format, cw, f.pretty)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.output)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("writing the SBOM: %w", err)
	}
	return cw.n, nil
}

// sbomCounter counts the bytes written through it, for the summary line.
type sbomCounter struct {
	w io.Writer
	n int64
}

func (c *sbomCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func sbomSourceExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}
