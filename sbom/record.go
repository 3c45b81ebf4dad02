package sbom

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// FromRecord describes the image of a build record: its runtime closure
// (without the image's own out path), with names from the derivations, Nix's
// narHash, and references as edges. With opts.Image it also reads the
// layers' tar headers to say which layers hold each path.
func FromRecord(rec *record.Record, opts Options) (*Document, error) {
	if rec == nil {
		return nil, fmt.Errorf("no build record")
	}
	if err := rec.Check(); err != nil {
		return nil, fmt.Errorf("build record: %w", err)
	}
	d := &Document{
		Source: "record",
		Subject: Subject{
			Name:           storepath.Name(rec.OutPath),
			Form:           rec.Image.Form,
			ConfigDigest:   rec.Image.ConfigDigest,
			ManifestDigest: rec.Image.ManifestDigest,
			DrvPath:        rec.DrvPath,
			OutPath:        rec.OutPath,
			System:         rec.System,
		},
		BuildTime: opts.BuildTime,
	}
	for _, l := range rec.Image.Layers {
		d.Subject.DiffIDs = append(d.Subject.DiffIDs, l.DiffID)
	}
	if opts.Image != nil {
		d.Subject.refHints = append(d.Subject.refHints, opts.Image.RepoTags...)
	}
	d.Subject.refHints = append(d.Subject.refHints, imageNameOf(rec)...)
	var layers map[string][]int
	var roots []*rootLayer
	if opts.Image != nil {
		var err error
		if layers, roots, err = pathLayers(context.Background(), opts.Image); err != nil {
			return nil, err
		}
	}
	rv := newRecordView(rec)
	inImage := map[string]bool{}
	for _, p := range rec.Closure {
		if p.Path == rec.OutPath {
			continue
		}
		hash, _, err := SplitStorePath(p.Path)
		if err != nil {
			return nil, fmt.Errorf("build record closure: %w", err)
		}
		var where []int
		if layers != nil {
			base := path.Base(p.Path) // SplitStorePath checked it
			if where = layers[base]; len(where) == 0 {
				continue // in the closure of the stream script, not in a layer
			}
		}
		c := Component{Path: p.Path, Hash: hash, Deriver: p.Deriver, NarHash: p.NarHash, NarSize: p.NarSize}
		for _, i := range where {
			c.Layers = append(c.Layers, d.Subject.DiffIDs[i])
		}
		c.nameFrom(rv.drvs)
		d.Components = append(d.Components, c)
		inImage[p.Path] = true
	}
	refs := map[string][]string{}
	for _, p := range rec.Closure {
		refs[p.Path] = p.References
	}
	if err := addLayerOnly(d, opts, layers, inImage, refs, rv); err != nil {
		return nil, err
	}
	for i := range d.Components {
		c := &d.Components[i]
		for _, r := range refs[c.Path] {
			if r != c.Path && inImage[r] {
				c.DependsOn = append(c.DependsOn, r)
			}
		}
	}
	if roots != nil {
		d.RootFiles = mergeRoot(roots, d.Subject.DiffIDs, hashIndex(d.Components))
	}
	if len(d.Components) == 0 && layers == nil {
		d.Warnings = append(d.Warnings, "the record's closure holds only the image itself (Nix sees no references through a compressed archive): describe the image with the record for its store paths")
	}
	if rec.Image.Form == "stream" && layers == nil {
		d.Warnings = append(d.Warnings, "the image is a stream script: without the image, its closure may include the script's own run-time tools")
	}
	if opts.BuildTime {
		addBuildTime(d, rv)
		storeRoot := ""
		if strings.HasPrefix(rec.Store, "/") {
			storeRoot = rec.Store // a chroot store
		}
		markCopies(d, storeRoot)
		markBaseImages(context.Background(), d, storeRoot, opts.TempDir)
	}
	var created time.Time
	if rec.Image.Created != "" {
		created, _ = time.Parse(time.RFC3339Nano, rec.Image.Created)
	}
	if err := opts.finish(d, created); err != nil {
		return nil, err
	}
	return d, nil
}

// recordView is a record with its derivations indexed, built once for
// every step of FromRecord.
type recordView struct {
	rec   *record.Record
	drvs  map[string]drvInfo
	byOut map[string]string // output path -> drv
}

func newRecordView(rec *record.Record) *recordView {
	rv := &recordView{rec: rec, drvs: make(map[string]drvInfo, len(rec.Derivations)), byOut: map[string]string{}}
	for p, drv := range rec.Derivations {
		rv.drvs[p] = drvInfo{pname: drv.Env["pname"], version: drv.Env["version"], system: drv.System, outputs: drv.Outputs}
		for _, out := range drv.Outputs {
			rv.byOut[out] = p
		}
	}
	return rv
}

// addBuildTime adds, for every derivation reachable from the image's, the
// outputs of its input derivations and its input sources as build-time
// dependencies; paths not in the image become build-only components.
func addBuildTime(d *Document, rv *recordView) {
	rec, byOut := rv.rec, rv.byOut
	narOf := map[string]record.PathInfo{}
	for _, p := range rec.Closure {
		narOf[p.Path] = p
	}
	index := map[string]int{}
	for i, c := range d.Components {
		index[c.Path] = i
	}
	inputsOf := func(drvPath string) []string {
		drv, ok := rec.Derivations[drvPath]
		if !ok {
			return nil
		}
		var in []string
		for input, outs := range drv.InputDrvs {
			for _, o := range outs {
				if p := rec.Derivations[input].Outputs[o]; p != "" {
					in = append(in, p)
				}
			}
		}
		return append(in, drv.InputSrcs...)
	}
	// Walk from the image's derivation through every input.
	queue := []string{rec.OutPath}
	seen := map[string]bool{rec.OutPath: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		deps := inputsOf(byOut[p])
		if p == rec.OutPath {
			d.Subject.BuildDependsOn = append(d.Subject.BuildDependsOn, deps...)
		}
		for _, dep := range deps {
			if _, ok := index[dep]; !ok {
				addBuildOnly(d, index, dep, byOut[dep], narOf, rv.drvs)
			}
			if !seen[dep] {
				seen[dep] = true
				queue = append(queue, dep)
			}
		}
		if i, ok := index[p]; ok {
			d.Components[i].BuildDependsOn = append(d.Components[i].BuildDependsOn, deps...)
		}
	}
}

func addBuildOnly(d *Document, index map[string]int, p, deriver string, narOf map[string]record.PathInfo, drvs map[string]drvInfo) {
	hash, _, err := SplitStorePath(p)
	if err != nil {
		d.Warnings = append(d.Warnings, fmt.Sprintf("build-time input %q is not a store path", p))
		return
	}
	c := Component{Path: p, Hash: hash, Deriver: deriver, BuildOnly: true}
	if info, ok := narOf[p]; ok {
		c.NarHash, c.NarSize = info.NarHash, info.NarSize
	}
	c.nameFrom(drvs)
	index[p] = len(d.Components)
	d.Components = append(d.Components, c)
}

// addLayerOnly adds the store paths the layers hold that the record's
// closure lacks: a compressed image (.tar.gz, .tar.zst) hides its contents
// from Nix's reference scanner, so its closure is the archive alone. Their
// hashes and references are computed from the layers (as FromImage does);
// names still come from the derivations.
func addLayerOnly(d *Document, opts Options, layers map[string][]int, inImage map[string]bool, refs map[string][]string, rv *recordView) error {
	missing := 0
	for base := range layers { // store path base names (layerPaths checked them)
		if !inImage[nix.StoreDir+"/"+base] {
			missing++
		}
	}
	if missing == 0 {
		return nil
	}
	img, err := FromImage(context.Background(), opts.Image, Options{Workers: opts.Workers, TempDir: opts.TempDir})
	if err != nil {
		return err
	}
	for _, c := range img.Components {
		if inImage[c.Path] {
			continue
		}
		c.Deriver = rv.byOut[c.Path]
		c.nameFrom(rv.drvs)
		refs[c.Path] = c.DependsOn // edges are added with the closure's
		c.DependsOn = nil
		d.Components = append(d.Components, c)
		inImage[c.Path] = true
	}
	d.Warnings = append(d.Warnings, img.Warnings...)
	d.Warnings = append(d.Warnings, fmt.Sprintf("%d store paths in the layers are not in the record's closure (Nix sees no references through a compressed archive): their hashes and references were computed from the layers", missing))
	return nil
}

// imageNameOf is the image's name and tag as its derivation sets them
// (dockerTools and nix2container set imageName and imageTag), looking
// through input derivations, nearest first, for an image built from
// another (a customisation layer added to an image).
func imageNameOf(rec *record.Record) []string {
	queue, seen := []string{rec.DrvPath}, map[string]bool{rec.DrvPath: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		drv, ok := rec.Derivations[p]
		if !ok {
			continue
		}
		if n := drv.Env["imageName"]; n != "" {
			if t := drv.Env["imageTag"]; t != "" {
				return []string{n + ":" + t}
			}
			return []string{n}
		}
		for _, in := range sortedKeys(drv.InputDrvs) {
			if !seen[in] {
				seen[in] = true
				queue = append(queue, in)
			}
		}
	}
	return nil
}
