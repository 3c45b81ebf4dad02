package sbom

import (
	"fmt"
	"sort"
	"strings"
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
	// Name is the image's reference ([REGISTRY/]PATH[:TAG][@DIGEST]): its
	// name in the SBOM and in its purl. Default: what the image or record
	// says (a registry reference, an archive's RepoTags, the derivation's
	// imageName), else the source's file name.
	Name string
	// ManifestDigest is the digest of the image as pushed, when the caller
	// knows it (signing does); it is what the SBOM then describes.
	ManifestDigest string
	// BuildTime adds build-time dependencies from the derivation graph
	// (records only: an image alone has no derivations).
	BuildTime bool
	// Meta is merged by drvPath (nix/sbom-meta.nix output).
	Meta Meta
	// PurlNamespace is the pkg:nix namespace of packages whose origin the
	// evidence does not show (default none); packages from nixpkgs get
	// "nixpkgs" either way.
	PurlNamespace string
	// Author is who writes the SBOM (NTIA's "author of SBOM data"),
	// besides the tool; nil names the tool only.
	Author *Party
	// Supplier is who supplies the image (default: the author).
	Supplier *Party
	// Image, for FromRecord, gives the layers each store path is in (and
	// limits the components to the store paths the layers hold, which
	// matters for stream scripts whose closure includes their own tools).
	Image *image.Image
	// Workers is how many layers are read at once; 0 is GOMAXPROCS.
	Workers int
	// TempDir holds store paths spooled to disk; "" is the system's.
	TempDir string
	// MaxSpool bounds the bytes of store paths spooled to TempDir for one
	// image; 0 is image.DefaultMaxSpool.
	MaxSpool int64
}

func (o *Options) tool() string {
	if o.Tool == "" {
		return "nixdock"
	}
	return o.Tool
}

// finish fills what both sources share: the image's reference, meta,
// purls, sorting, creation time.
func (o *Options) finish(d *Document, imageCreated time.Time) error {
	d.Tool = o.tool()
	d.Author, d.Supplier = o.Author, o.Supplier
	if d.Supplier == nil {
		d.Supplier = o.Author
	}
	switch {
	case !o.Created.IsZero():
		d.Created = o.Created.UTC().Truncate(time.Second)
	case !imageCreated.IsZero():
		d.Created = imageCreated.UTC().Truncate(time.Second)
	default:
		d.Created = time.Unix(0, 0).UTC()
	}
	if err := o.resolveRef(d); err != nil {
		return err
	}
	ns := strings.ToLower(strings.Trim(o.PurlNamespace, "/"))
	if ns != "" {
		if _, err := ParsePURL("pkg:nix/" + ns + "/x"); err != nil {
			return fmt.Errorf("purl namespace %q: %w", o.PurlNamespace, err)
		}
	}
	sort.Slice(d.Components, func(i, j int) bool { return d.Components[i].Path < d.Components[j].Path })
	if o.Meta != nil {
		d.Warnings = append(d.Warnings, o.Meta.apply(d.Components)...)
	}
	for i := range d.Components {
		c := &d.Components[i]
		sort.Strings(c.DependsOn)
		sort.Strings(c.BuildDependsOn)
		if c.Origin == "" {
			c.Origin = ns
		}
		c.NixPURL = NixPURL(c)
		c.PURL = c.NixPURL
		if len(c.UpstreamPURLs) > 0 {
			c.PURL = c.UpstreamPURLs[0]
		}
	}
	sort.Strings(d.Subject.BuildDependsOn)
	d.Warnings = sortedUnique(d.Warnings)
	return nil
}

// resolveRef decides the image's reference: Options.Name, else the first
// hint the source gave that parses, else the source's file name.
func (o *Options) resolveRef(d *Document) error {
	s := &d.Subject
	if o.Name != "" {
		r, err := ParseImageRef(o.Name)
		if err != nil {
			return fmt.Errorf("image name: %w", err)
		}
		s.Name = o.Name
		s.setRef(r)
	} else {
		for _, h := range s.refHints {
			if r, err := ParseImageRef(h); err == nil {
				s.setRef(r)
				break
			}
		}
		if s.Repository == "" {
			s.Repository = fallbackRef(s.Name)
		}
	}
	if o.ManifestDigest != "" {
		if err := checkDigest(o.ManifestDigest); err != nil {
			return fmt.Errorf("manifest digest: %w", err)
		}
		if s.refDigest != "" && s.refDigest != o.ManifestDigest {
			return fmt.Errorf("the image reference names digest %s, the manifest digest given is %s", s.refDigest, o.ManifestDigest)
		}
		s.ManifestDigest = o.ManifestDigest
	} else if s.refDigest != "" {
		s.ManifestDigest = s.refDigest
	}
	return nil
}

func (s *Subject) setRef(r ImageRef) {
	s.Repository, s.Tag, s.refDigest = r.Repository(), r.Tag, r.Digest
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
	if c.Output == "" {
		// Nix appends a non-default output's name to the store path name
		// ("glibc-2.38-27-bin"): split the usual ones off, as the
		// derivation would say.
		for _, o := range commonOutputs {
			if v, ok := strings.CutSuffix(c.Version, "-"+o); ok && v != "" {
				c.Version, c.Output = v, o
				break
			}
		}
	}
}

// commonOutputs are the non-default output names of nixpkgs' multiple-output
// derivations that nameFrom recognises at the end of a store path name.
var commonOutputs = []string{"bin", "dev", "lib", "man", "doc", "devdoc", "info", "static", "debug"}

// drvInfo is what a component needs from its derivation.
type drvInfo struct {
	pname, version, system string
	outputs                map[string]string
}
