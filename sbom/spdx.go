package sbom

import (
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// NamespacePrefix starts every SPDX document namespace nixdock writes; the
// rest is the image name and a hash of the SBOM's content.
const NamespacePrefix = "https://nixdock.dev/spdx/"

const (
	imageID     = common.ElementID("image")
	noAssertion = "NOASSERTION"
)

// spdxID is the element id of a store path: its hash, which is unique.
func spdxID(c *Component) common.ElementID { return common.ElementID("nix-" + c.Hash) }

func ref(id common.ElementID) common.DocElementID { return common.DocElementID{ElementRefID: id} }

// SPDX returns the document as SPDX 2.3.
func (d *Document) SPDX() *spdx.Document {
	sum := d.contentHash()
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      d.Subject.Name,
		DocumentNamespace: NamespacePrefix + purlEscape(d.Subject.Name) + "-" + hex.EncodeToString(sum[:16]),
		CreationInfo: &spdx.CreationInfo{
			Creators: d.spdxCreators(),
			Created:  d.timestamp(),
		},
		DocumentComment: fmt.Sprintf("SBOM of the Nix store paths in the image, made by nixdock from the %s. Package checksums are SHA-256 hashes of the store paths' NAR serialization (Nix's narHash).", sourceText(d.Source)),
	}
	doc.Packages = append(doc.Packages, d.spdxImage())
	if p := d.spdxImageCopy(); p != nil {
		doc.Packages = append(doc.Packages, p)
	}
	if d.RootFiles != nil {
		doc.Packages = append(doc.Packages, d.spdxRootFiles())
	}
	refs := map[string]bool{}
	for i := range d.Components {
		p, lrefs := d.spdxPackage(&d.Components[i])
		doc.Packages = append(doc.Packages, p)
		for _, r := range lrefs {
			refs[r] = true
		}
	}
	for _, r := range sortedKeys(refs) {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: r,
			ExtractedText:     "The license named " + strings.TrimPrefix(r, "LicenseRef-") + " in the Nix package's meta.license, which is not on the SPDX license list.",
		})
	}
	doc.Relationships = d.spdxRelationships()
	return doc
}

// spdxCreators: the tool, and the author when given.
func (d *Document) spdxCreators() []common.Creator {
	out := []common.Creator{{CreatorType: "Tool", Creator: d.Tool}}
	if d.Author != nil {
		out = append(out, d.Author.spdxCreator())
	}
	return out
}

func sourceText(s string) string {
	if s == "record" {
		return "build record (closure as Nix reported it)"
	}
	return "image layers alone (NAR hashes and references computed from the tar contents)"
}

func (d *Document) spdxImage() *spdx.Package {
	s := &d.Subject
	p := &spdx.Package{
		PackageName:             s.Name,
		PackageSPDXIdentifier:   imageID,
		PackageVersion:          s.version(),
		PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
		// The digest the image is known by: tools read it as the
		// manifest digest (syft does) when there is one.
		PackageChecksums: []common.Checksum{{Algorithm: common.SHA256, Value: digestHex(s.version())}},
	}
	if d.Supplier != nil {
		p.PackageSupplier = d.Supplier.spdxSupplier()
	}
	var comment []string
	comment = append(comment, "config (image ID) "+s.ConfigDigest)
	if s.ManifestDigest != "" {
		comment = append(comment, "manifest "+s.ManifestDigest)
	}
	for i, id := range s.DiffIDs {
		comment = append(comment, fmt.Sprintf("layer %d %s", i, id))
	}
	if s.DrvPath != "" {
		comment = append(comment, "drv "+s.DrvPath, "out "+s.OutPath)
	}
	p.PackageComment = strings.Join(comment, "; ")
	if purl := s.purl(); purl != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: "purl", Locator: purl}}
	}
	return p
}

func (d *Document) spdxPackage(c *Component) (*spdx.Package, []string) {
	p := &spdx.Package{
		PackageName:             c.Name,
		PackageSPDXIdentifier:   spdxID(c),
		PackageVersion:          c.Version,
		PackageFileName:         c.Path,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PackageDescription:      c.Description,
		PackageHomePage:         c.Homepage,
	}
	var refs []string
	if c.License != "" {
		p.PackageLicenseDeclared = c.License
		_, refs = LicenseExpression([]string{c.License})
	}
	if c.NarHash != "" {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: digestHex(c.NarHash)}}
	}
	// The main purl first: tools that keep one purl per package (syft)
	// take the first purl reference.
	for _, u := range c.purls() {
		r := &spdx.PackageExternalReference{Category: common.CategoryPackageManager, RefType: "purl", Locator: u}
		if u == c.NixPURL {
			r.ExternalRefComment = "the store path, as the proposed pkg:nix type (purl-spec PR 877) names it"
		}
		p.PackageExternalReferences = append(p.PackageExternalReferences, r)
	}
	for _, cpe := range c.CPEs {
		p.PackageExternalReferences = append(p.PackageExternalReferences,
			&spdx.PackageExternalReference{Category: common.CategorySecurity, RefType: "cpe23Type", Locator: cpe})
	}
	if c.DownloadLocation != "" {
		p.PackageDownloadLocation = c.DownloadLocation
	}
	if sup := c.spdxSupplier(); sup != nil {
		p.PackageSupplier = sup
	}
	comment := []string{"store path " + c.Path}
	if c.NarSize > 0 {
		comment = append(comment, fmt.Sprintf("narSize %d", c.NarSize))
	}
	if c.Deriver != "" {
		comment = append(comment, "deriver "+c.Deriver)
	}
	if idx := d.layerIndexes(c); len(idx) > 0 {
		comment = append(comment, "layers "+strings.Join(idx, ","))
	}
	switch {
	case c.BuildOnly && c.BaseImageLayers > 0:
		comment = append(comment, fmt.Sprintf("build-time input: the base image, whose %d layers are the image's first", c.BaseImageLayers))
	case c.BuildOnly && c.CopiedToRoot != "":
		comment = append(comment, "build-time input whose files are copied into the image as "+c.CopiedToRoot)
	case c.BuildOnly:
		comment = append(comment, "build-time only: not in the image")
	}
	p.PackageComment = strings.Join(comment, "; ")
	return p, refs
}

// spdxRelationships: DOCUMENT DESCRIBES the image (its listed copy is a
// COPY_OF it, imagecopy.go); the image CONTAINS
// every store path in it; A DEPENDS_ON B for run-time references; B
// BUILD_DEPENDENCY_OF A for build-time inputs. Sorted.
func (d *Document) spdxRelationships() []*spdx.Relationship {
	rel := func(a, b common.ElementID, t string) *spdx.Relationship {
		return &spdx.Relationship{RefA: ref(a), RefB: ref(b), Relationship: t}
	}
	ids := map[string]common.ElementID{}
	for i := range d.Components {
		ids[d.Components[i].Path] = spdxID(&d.Components[i])
	}
	out := []*spdx.Relationship{rel("DOCUMENT", imageID, common.TypeRelationshipDescribe)}
	if d.Subject.purl() != "" {
		out = append(out, rel(imageCopyID, imageID, common.TypeRelationshipCopyOf))
	}
	var contains, depends, build []*spdx.Relationship
	for i := range d.Components {
		c := &d.Components[i]
		id := ids[c.Path]
		if !c.BuildOnly {
			contains = append(contains, rel(imageID, id, common.TypeRelationshipContains))
		}
		if c.BaseImageLayers > 0 {
			build = append(build, rel(imageID, id, common.TypeRelationshipDescendantOf))
		}
		for _, dep := range c.DependsOn {
			depends = append(depends, rel(id, ids[dep], common.TypeRelationshipDependsOn))
		}
		for _, dep := range c.BuildDependsOn {
			if depID, ok := ids[dep]; ok {
				build = append(build, rel(depID, id, common.TypeRelationshipBuildDependencyOf))
			}
		}
	}
	if rf := d.RootFiles; rf != nil {
		contains = append(contains, rel(imageID, rootFilesID, common.TypeRelationshipContains))
		for _, dep := range rf.DependsOn {
			if depID, ok := ids[dep]; ok {
				depends = append(depends, rel(rootFilesID, depID, common.TypeRelationshipDependsOn))
			}
		}
		for _, src := range rf.CopyOf {
			if srcID, ok := ids[src]; ok {
				// Not the equivalent "root-files GENERATED_FROM src":
				// syft drops the target of GENERATED_FROM from its
				// packages, and src with it.
				build = append(build, rel(srcID, rootFilesID, common.TypeRelationshipGenerates))
			}
		}
	}
	for _, dep := range d.Subject.BuildDependsOn {
		if depID, ok := ids[dep]; ok {
			build = append(build, rel(depID, imageID, common.TypeRelationshipBuildDependencyOf))
		}
	}
	for _, group := range [][]*spdx.Relationship{contains, depends, build} {
		sort.SliceStable(group, func(i, j int) bool {
			a, b := group[i], group[j]
			if a.RefA.ElementRefID != b.RefA.ElementRefID {
				return a.RefA.ElementRefID < b.RefA.ElementRefID
			}
			return a.RefB.ElementRefID < b.RefB.ElementRefID
		})
		out = append(out, group...)
	}
	return out
}

func (d *Document) encodeSPDX(w io.Writer, pretty bool) error {
	opts := []spdxjson.WriteOption{spdxjson.EscapeHTML(false)}
	if pretty {
		opts = append(opts, spdxjson.Indent("  "))
	}
	return spdxjson.Write(d.SPDX(), w, opts...)
}

// purls lists c's purls, the main one first: the upstream purls (where
// meta names them) and the store path's pkg:nix purl.
func (c *Component) purls() []string {
	out := []string{c.PURL}
	for _, u := range append(append([]string(nil), c.UpstreamPURLs...), c.NixPURL) {
		if u != "" && u != c.PURL {
			out = append(out, u)
		}
	}
	return out
}

// spdxSupplier names who supplies the package: nixpkgs for packages from
// it, else its first maintainer.
func (c *Component) spdxSupplier() *common.Supplier {
	if c.Origin == NixpkgsNamespace {
		return &common.Supplier{SupplierType: "Organization", Supplier: "nixpkgs"}
	}
	for _, m := range c.Maintainers {
		if name := personText(m); name != "" {
			return &common.Supplier{SupplierType: "Person", Supplier: name}
		}
	}
	return nil
}

// personText is "Name (email)" as SPDX writes a person, with what would
// break that form taken out.
func personText(m Maintainer) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r == '(' || r == ')' {
				return -1
			}
			return r
		}, strings.TrimSpace(s))
	}
	name := clean(m.Name)
	if name == "" {
		name = clean(m.GitHub)
	}
	if name == "" {
		return ""
	}
	if e := cleanEmail(m.Email); e != "" {
		return name + " (" + e + ")"
	}
	return name
}

// cleanEmail is e when it looks like an address (one @, no spaces or
// parentheses), else "".
func cleanEmail(e string) string {
	e = strings.TrimSpace(e)
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(e, " ()<>,;\\\t\n\r\"") || strings.Count(e, "@") != 1 {
		return ""
	}
	return e
}

// maxCommentFiles bounds the files an SPDX comment lists.
const maxCommentFiles = 1000

// spdxRootFiles is the package of the files outside the store; its
// comment lists them (SPDX file elements would need SHA-1 hashes).
func (d *Document) spdxRootFiles() *spdx.Package {
	rf := d.RootFiles
	no := false
	p := &spdx.Package{
		PackageName:               RootFilesName,
		PackageSPDXIdentifier:     rootFilesID,
		PackageDownloadLocation:   noAssertion,
		FilesAnalyzed:             no,
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    noAssertion,
		PackageCopyrightText:      noAssertion,
		PrimaryPackagePurpose:     "FILE",
		PackageChecksums:          []common.Checksum{{Algorithm: common.SHA256, Value: rf.SHA256}},
	}
	list := rf.listing()
	if len(list) > maxCommentFiles {
		list = append(list[:maxCommentFiles:maxCommentFiles], fmt.Sprintf("and %d more (the CycloneDX SBOM lists them all)", len(list)-maxCommentFiles))
	}
	p.PackageComment = "files outside /nix/store (checksum: SHA-256 of the listing): " + strings.Join(list, "; ")
	return p
}
