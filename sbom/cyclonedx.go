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
		Authors:   d.cdxAuthors(),
		Properties: props(
			prop("nixdock:source", d.Source),
			prop("nixdock:warning", d.Warnings...),
		),
	}
	comps := make([]cdx.Component, 0, len(d.Components)+2)
	if c := d.cdxImageCopy(); c != nil {
		comps = append(comps, *c)
	}
	if d.RootFiles != nil {
		comps = append(comps, d.cdxRootFiles())
	}
	for i := range d.Components {
		comps = append(comps, d.cdxComponent(&d.Components[i]))
	}
	if a := d.Author; a != nil && a.Type == "Organization" {
		// CycloneDX 1.6: the organization that created the BOM.
		bom.Metadata.Manufacturer = a.cdxEntity()
	}
	if sup := d.Supplier; sup != nil {
		// Who supplies the image the BOM describes.
		bom.Metadata.Supplier = sup.cdxEntity()
	}
	bom.Components = &comps
	deps := d.cdxDependencies()
	bom.Dependencies = &deps
	bom.Formulation = d.cdxFormulation()
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
	if d.Supplier != nil {
		c.Supplier = d.Supplier.cdxEntity()
	}
	return c
}

// cdxAuthors is the SBOM's author, when given.
func (d *Document) cdxAuthors() *[]cdx.OrganizationalContact {
	if d.Author == nil {
		return nil
	}
	return &[]cdx.OrganizationalContact{d.Author.cdxContact()}
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
		Supplier:    c.cdxSupplier(),
	}
	if len(c.CPEs) > 0 {
		out.CPE = c.CPEs[0]
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
	var refs []cdx.ExternalReference
	if c.Homepage != "" {
		refs = append(refs, cdx.ExternalReference{Type: cdx.ERTypeWebsite, URL: c.Homepage})
	}
	if c.DownloadLocation != "" {
		refs = append(refs, cdx.ExternalReference{Type: cdx.ERTypeDistribution, URL: c.DownloadLocation, Comment: "source"})
	}
	if len(refs) > 0 {
		out.ExternalReferences = &refs
	}
	var nixPURL string
	if c.NixPURL != c.PURL {
		nixPURL = c.NixPURL
	}
	var morePURLs, moreCPEs []string
	if len(c.UpstreamPURLs) > 1 {
		morePURLs = c.UpstreamPURLs[1:]
	}
	if len(c.CPEs) > 1 {
		moreCPEs = c.CPEs[1:]
	}
	layers := append([]string(nil), d.layerIndexes(c)...)
	out.Properties = props(
		prop("nix:storePath", c.Path),
		prop("nix:purl", nixPURL),
		prop("nix:narSize", sizeText(c.NarSize)),
		prop("nix:deriver", c.Deriver),
		prop("nix:output", c.Output),
		prop("nixdock:nameFrom", c.NameFrom),
		prop("nixdock:layer", layers...),
		prop("nixdock:purl", morePURLs...),
		prop("nixdock:cpe", moreCPEs...),
		prop("nixdock:buildOnly", boolText(c.BuildOnly)),
		prop("nixdock:copiedToRoot", c.CopiedToRoot),
		prop("nixdock:baseImageLayers", sizeText(int64(c.BaseImageLayers))),
	)
	return out
}

// cdxSupplier: nixpkgs for packages from it, with the maintainers as
// contacts; else the first maintainer, with all of them as contacts.
func (c *Component) cdxSupplier() *cdx.OrganizationalEntity {
	var contacts []cdx.OrganizationalContact
	for _, m := range c.Maintainers {
		name := personText(Maintainer{Name: m.Name, GitHub: m.GitHub})
		if name == "" {
			continue
		}
		contacts = append(contacts, cdx.OrganizationalContact{Name: name, Email: cleanEmail(m.Email)})
	}
	switch {
	case c.Origin == NixpkgsNamespace:
		e := &cdx.OrganizationalEntity{Name: "nixpkgs", URL: &[]string{"https://github.com/NixOS/nixpkgs"}}
		if len(contacts) > 0 {
			e.Contact = &contacts
		}
		return e
	case len(contacts) > 0:
		return &cdx.OrganizationalEntity{Name: contacts[0].Name, Contact: &contacts}
	}
	return nil
}

// cdxDependencies lists every component with the store paths it refers
// to at run time; the image depends on the files outside the store and on
// the store paths nothing else in it refers to (its roots). Build-time
// inputs are not run-time dependencies: they are in the formulation (cdxFormulation).
func (d *Document) cdxDependencies() []cdx.Dependency {
	referenced := map[string]bool{}
	for _, c := range d.Components {
		for _, dep := range c.DependsOn {
			referenced[dep] = true
		}
	}
	if rf := d.RootFiles; rf != nil {
		for _, dep := range rf.DependsOn {
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
	imageDeps := union(roots, nil, known)
	if d.RootFiles != nil {
		imageDeps = append([]string{rootFilesID}, imageDeps...)
	}
	deps := []cdx.Dependency{{Ref: imageRef, Dependencies: list(imageDeps)}}
	if d.Subject.purl() != "" {
		deps = append(deps, cdx.Dependency{Ref: imageCopyRef, Dependencies: list(imageDeps)})
	}
	if rf := d.RootFiles; rf != nil {
		deps = append(deps, cdx.Dependency{Ref: rootFilesID, Dependencies: list(union(rf.DependsOn, nil, known))})
	}
	for _, c := range d.Components {
		deps = append(deps, cdx.Dependency{Ref: c.Path, Dependencies: list(union(c.DependsOn, nil, known))})
	}
	sort.SliceStable(deps[1:], func(i, j int) bool { return deps[1+i].Ref < deps[1+j].Ref })
	return deps
}

// cdxFormulation describes how the image was built (--buildtime): one
// workflow per derivation, whose inputs are its build-time inputs and
// whose output is the store path (or the image) it built.
func (d *Document) cdxFormulation() *[]cdx.Formula {
	if !d.BuildTime {
		return nil
	}
	known := make(map[string]bool, len(d.Components))
	for _, c := range d.Components {
		known[c.Path] = true
	}
	var flows []cdx.Workflow
	add := func(ref, uid, name string, inputs []string) {
		in := union(inputs, nil, known)
		if len(in) == 0 {
			return
		}
		var tin []cdx.TaskInput
		for _, p := range in {
			tin = append(tin, cdx.TaskInput{Resource: &cdx.ResourceReferenceChoice{Ref: p}})
		}
		flows = append(flows, cdx.Workflow{
			BOMRef: "build:" + ref, UID: uid, Name: name,
			TaskTypes: &[]cdx.TaskType{cdx.TaskTypeBuild},
			Inputs:    &tin,
			Outputs:   &[]cdx.TaskOutput{{Resource: &cdx.ResourceReferenceChoice{Ref: ref}, Type: cdx.TaskOutputTypeArtifact}},
		})
	}
	uid := d.Subject.DrvPath
	if uid == "" {
		uid = d.Subject.Name
	}
	add(imageRef, uid, "nix build "+uid, d.Subject.BuildDependsOn)
	if rf := d.RootFiles; rf != nil && len(rf.CopyOf) > 0 {
		add(rootFilesID, "copy-to-root:"+uid, "the files copied to the image root", rf.CopyOf)
	}
	for _, c := range d.Components {
		uid := c.Deriver
		if uid == "" {
			uid = c.Path
		}
		add(c.Path, uid, "nix build "+uid, c.BuildDependsOn)
	}
	if len(flows) == 0 {
		return nil
	}
	return &[]cdx.Formula{{BOMRef: "formulation", Workflows: &flows}}
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

// cdxRootFiles is the component of the files outside the store, with one
// nested file component per file.
func (d *Document) cdxRootFiles() cdx.Component {
	rf := d.RootFiles
	files := make([]cdx.Component, 0, len(rf.Files))
	for _, f := range rf.Files {
		fc := cdx.Component{Type: cdx.ComponentTypeFile, Name: f.Path}
		if f.SHA256 != "" {
			fc.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: f.SHA256}}
		}
		fc.Properties = props(prop("nixdock:symlinkTarget", f.Target), prop("nixdock:mode", fmt.Sprintf("%04o", f.Mode)))
		files = append(files, fc)
	}
	c := cdx.Component{
		BOMRef: rootFilesID, Type: cdx.ComponentTypeFile, Name: RootFilesName,
		Description: "The files outside /nix/store (a customisation layer); the hash is of their listing",
		Scope:       cdx.ScopeRequired,
		Hashes:      &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: rf.SHA256}},
		Properties: props(
			prop("nixdock:copyOf", rf.CopyOf...),
			prop("nixdock:filesNotListed", sizeText(int64(rf.More))),
		),
	}
	if len(files) > 0 {
		c.Components = &files
	}
	return c
}
