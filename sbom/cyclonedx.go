package sbom

import (
	"fmt"
	"io"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// imageRef is the bom-ref of the image in CycloneDX; store paths use their
// path.
const imageRef = "image"

// CycloneDX returns the document as a CycloneDX 1.6 BOM.
func (d *Document) CycloneDX() *cdx.BOM {
	sum := d.contentHash()
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.SerialNumber = "urn:uuid:" + uuid(sum)
	bom.Version = 1
	name, version, _ := strings.Cut(d.Tool, "-")
	bom.Metadata = &cdx.Metadata{
		Timestamp: d.timestamp(),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: name, Version: version,
		}}},
		Component: d.cdxImage(),
		Properties: props(
			prop("nixdock:source", d.Source),
			prop("nixdock:warning", d.Warnings...),
		),
	}
	comps := make([]cdx.Component, 0, len(d.Components))
	for i := range d.Components {
		comps = append(comps, d.cdxComponent(&d.Components[i]))
	}
	bom.Components = &comps
	deps := d.cdxDependencies()
	bom.Dependencies = &deps
	return bom
}

func (d *Document) cdxImage() *cdx.Component {
	s := &d.Subject
	c := &cdx.Component{
		BOMRef:     imageRef,
		Type:       cdx.ComponentTypeContainer,
		Name:       s.Name,
		Version:    s.version(),
		PackageURL: s.purl(),
		Properties: props(
			prop("nixdock:configDigest", s.ConfigDigest),
			prop("nixdock:manifestDigest", s.ManifestDigest),
			prop("nixdock:form", s.Form),
			prop("nixdock:drvPath", s.DrvPath),
			prop("nixdock:outPath", s.OutPath),
			prop("nix:system", s.System),
			layerProps(s.DiffIDs),
		),
	}
	return c
}

func (d *Document) cdxComponent(c *Component) cdx.Component {
	out := cdx.Component{
		BOMRef:      c.Path,
		Type:        cdx.ComponentTypeLibrary,
		Name:        c.Name,
		Version:     c.Version,
		Description: c.Description,
		Scope:       cdx.ScopeRequired,
		PackageURL:  c.PURL,
		CPE:         c.CPE,
	}
	if c.BuildOnly {
		out.Scope = cdx.ScopeExcluded
	}
	if c.NarHash != "" {
		out.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: digestHex(c.NarHash)}}
	}
	if c.License != "" {
		out.Licenses = &cdx.Licenses{{Expression: c.License}}
	}
	if c.Homepage != "" {
		out.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: c.Homepage}}
	}
	layers := append([]string(nil), d.layerIndexes(c)...)
	out.Properties = props(
		prop("nix:storePath", c.Path),
		prop("nix:narSize", sizeText(c.NarSize)),
		prop("nix:deriver", c.Deriver),
		prop("nix:output", c.Output),
		prop("nixdock:nameFrom", c.NameFrom),
		prop("nixdock:layer", layers...),
		prop("nixdock:purl", c.ExtraPURLs...),
		prop("nixdock:buildOnly", boolText(c.BuildOnly)),
	)
	return out
}

// cdxDependencies lists every component with what it depends on: run-time
// references, plus build-time inputs with --buildtime. The image depends
// on the store paths that nothing else in it refers to (its roots).
func (d *Document) cdxDependencies() []cdx.Dependency {
	referenced := map[string]bool{}
	for _, c := range d.Components {
		for _, dep := range c.DependsOn {
			referenced[dep] = true
		}
	}
	var roots []string
	for _, c := range d.Components {
		if !c.BuildOnly && !referenced[c.Path] {
			roots = append(roots, c.Path)
		}
	}
	known := make(map[string]bool, len(d.Components))
	for _, c := range d.Components {
		known[c.Path] = true
	}
	deps := []cdx.Dependency{{Ref: imageRef, Dependencies: list(union(roots, d.Subject.BuildDependsOn, known))}}
	for _, c := range d.Components {
		deps = append(deps, cdx.Dependency{Ref: c.Path, Dependencies: list(union(c.DependsOn, c.BuildDependsOn, known))})
	}
	sort.SliceStable(deps[1:], func(i, j int) bool { return deps[1+i].Ref < deps[1+j].Ref })
	return deps
}

// union merges two sorted lists of store paths, keeping only components.
func union(a, b []string, known map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(append([]string{}, a...), b...) {
		if known[p] && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func list(s []string) *[]string {
	if len(s) == 0 {
		return nil
	}
	return &s
}

// prop returns one property per non-empty value.
func prop(name string, values ...string) []cdx.Property {
	var out []cdx.Property
	for _, v := range values {
		if v != "" {
			out = append(out, cdx.Property{Name: name, Value: v})
		}
	}
	return out
}

func layerProps(diffIDs []string) []cdx.Property {
	var out []cdx.Property
	for i, id := range diffIDs {
		out = append(out, cdx.Property{Name: "nixdock:layer", Value: fmt.Sprintf("%d %s", i, id)})
	}
	return out
}

func props(groups ...[]cdx.Property) *[]cdx.Property {
	var out []cdx.Property
	for _, g := range groups {
		out = append(out, g...)
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

func sizeText(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%d", n)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func (d *Document) encodeCycloneDX(w io.Writer, pretty bool) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(pretty)
	enc.SetEscapeHTML(false)
	return enc.Encode(d.CycloneDX())
}
