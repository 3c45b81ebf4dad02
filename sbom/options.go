package sbom

import (
	"sort"
	"time"

	"github.com/nixdock/nixdock-action/image"
)

// Options tune FromRecord and FromImage.
type Options struct {
	// Created is the SBOM's creation time (the CLI passes
	// SOURCE_DATE_EPOCH); zero uses the image's created date, else the
	// Unix epoch. Never the wall clock: the same input gives the same bytes.
	Created time.Time
	// Tool names the writer, such as "nixdock-v0.3.0" (default "nixdock").
	Tool string
	// Name overrides the image's name in the SBOM.
	Name string
	// ManifestDigest is the digest of the image as pushed, when the caller
	// knows it (signing does); it is what the SBOM then describes.
	ManifestDigest string
	// BuildTime adds build-time dependencies from the derivation graph
	// (records only: an image alone has no derivations).
	BuildTime bool
	// Meta is merged by drvPath (nix/sbom-meta.nix output).
	Meta Meta
	// PurlNamespace is the pkg:nix namespace (default "nixpkgs").
	PurlNamespace string
	// Image, for FromRecord, gives the layers each store path is in (and
	// limits the components to the store paths the layers hold, which
	// matters for stream scripts whose closure includes their own tools).
	Image *image.Image
	// Workers is how many layers are read at once; 0 is GOMAXPROCS.
	Workers int
	// TempDir holds store paths spooled to disk; "" is the system's.
	TempDir string
}

func (o *Options) tool() string {
	if o.Tool == "" {
		return "nixdock"
	}
	return o.Tool
}

// finish fills what both sources share: meta, purls, sorting, creation
// time.
func (o *Options) finish(d *Document, imageCreated time.Time) {
	d.Tool = o.tool()
	switch {
	case !o.Created.IsZero():
		d.Created = o.Created.UTC().Truncate(time.Second)
	case !imageCreated.IsZero():
		d.Created = imageCreated.UTC().Truncate(time.Second)
	default:
		d.Created = time.Unix(0, 0).UTC()
	}
	if o.Name != "" {
		d.Subject.Name = o.Name
	}
	if o.ManifestDigest != "" {
		d.Subject.ManifestDigest = o.ManifestDigest
	}
	sort.Slice(d.Components, func(i, j int) bool { return d.Components[i].Path < d.Components[j].Path })
	if o.Meta != nil {
		o.Meta.apply(d.Components)
	}
	for i := range d.Components {
		c := &d.Components[i]
		sort.Strings(c.DependsOn)
		sort.Strings(c.BuildDependsOn)
		c.PURL = PURL(o.PurlNamespace, c)
	}
	sort.Strings(d.Subject.BuildDependsOn)
	d.Warnings = sortedUnique(d.Warnings)
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// nameVersion fills a component's name, version, output and system from
// its deriver when known, else from the store path name.
func (c *Component) nameFrom(drvs map[string]drvInfo) {
	_, storeNm, _ := SplitStorePath(c.Path)
	if d, ok := drvs[c.Deriver]; ok && c.Deriver != "" {
		c.System = d.system
		for out, p := range d.outputs {
			if p == c.Path {
				c.Output = out
			}
		}
		if d.pname != "" {
			c.Name, c.Version, c.NameFrom = d.pname, d.version, "derivation"
			return
		}
	}
	c.Name, c.Version = ParseName(storeNm)
	c.NameFrom = "store-path"
}

// drvInfo is what a component needs from its derivation.
type drvInfo struct {
	pname, version, system string
	outputs                map[string]string
}
