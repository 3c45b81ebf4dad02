package sbom

import (
	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// The image is the SBOM's subject: the package the SPDX document
// DESCRIBES and the CycloneDX metadata.component, each with the image
// purl. syft (and tools built on its model) turns that subject into its
// scan "source", which has no purl, so `syft convert` loses the image
// purl. The image is therefore listed once more among the packages, with
// the same name, version and purl: syft keeps it as a package. It is
// written only when the image has a purl.
const (
	imageCopyID  = common.ElementID("image-package")
	imageCopyRef = "image-package"
)

const imageCopyText = "The image (the SBOM's subject) once more, as a package of the list, so that its purl survives tools that turn the subject into a scan source without one (syft convert)"

// spdxImageCopy is the image as a package of the list: SPDXRef-image's
// name, version, checksum and purl; the relationships say it is a
// COPY_OF SPDXRef-image.
func (d *Document) spdxImageCopy() *spdx.Package {
	img := d.spdxImage()
	if len(img.PackageExternalReferences) == 0 {
		return nil
	}
	img.PackageSPDXIdentifier = imageCopyID
	img.PackageComment = imageCopyText + ": a COPY_OF SPDXRef-image."
	return img
}

// cdxImageCopy is the image as a component of the list. Its type is
// application: syft keeps components of the types it knows as packages
// (application, framework, library, firmware, machine-learning model) and
// drops containers. It depends on what the image depends on, so that
// syft keeps those edges too.
func (d *Document) cdxImageCopy() *cdx.Component {
	s := &d.Subject
	purl := s.purl()
	if purl == "" {
		return nil
	}
	return &cdx.Component{
		BOMRef:      imageCopyRef,
		Type:        cdx.ComponentTypeApplication,
		Name:        s.Name,
		Version:     s.version(),
		Description: imageCopyText + ".",
		Scope:       cdx.ScopeRequired,
		PackageURL:  purl,
		Properties:  props(prop("nixdock:copyOf", imageRef)),
		Supplier:    d.cdxImage().Supplier,
	}
}
