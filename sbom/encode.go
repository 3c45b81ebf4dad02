package sbom

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format is an SBOM format nixdock writes.
type Format string

// The formats Encode writes.
const (
	SPDXJSON      Format = "spdx-json"
	CycloneDXJSON Format = "cyclonedx-json"
)

// Formats lists the formats, for flag help.
var Formats = []Format{SPDXJSON, CycloneDXJSON}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("format %q: want spdx-json or cyclonedx-json", s)
}

// Encode writes the document in format f: compact JSON (one line) unless
// pretty, the same bytes for the same document.
func (d *Document) Encode(f Format, w io.Writer, pretty bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var err error
	switch f {
	case SPDXJSON:
		err = d.encodeSPDX(bw, pretty)
	case CycloneDXJSON:
		err = d.encodeCycloneDX(bw, pretty)
	default:
		return fmt.Errorf("format %q: want spdx-json or cyclonedx-json", f)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f, err)
	}
	return bw.Flush()
}

// uuid is a UUID version 8 (RFC 9562 §5.8: custom, here the first 16
// bytes of a SHA-256 with the version and variant bits set; version 5
// would claim SHA-1 of a namespace and name): deterministic, and valid
// where a UUID is required (CycloneDX serialNumber).
func uuid(sum [32]byte) string {
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// timestamp is the document's creation time in the UTC form both formats use.
func (d *Document) timestamp() string {
	return d.Created.UTC().Format(time.RFC3339)
}

// layerText says which layers hold c, for comments.
func (d *Document) layerIndexes(c *Component) []string {
	var out []string
	for _, id := range c.Layers {
		for i, s := range d.Subject.DiffIDs {
			if s == id {
				out = append(out, fmt.Sprintf("%d", i))
				break
			}
		}
	}
	return out
}

// imageVersion is what the image is identified by: the manifest digest
// when known, else the config digest (the image ID).
func (s *Subject) version() string {
	if s.ManifestDigest != "" {
		return s.ManifestDigest
	}
	return s.ConfigDigest
}

// digestHex strips "sha256:".
func digestHex(d string) string { return strings.TrimPrefix(d, "sha256:") }

// purl is the pkg:oci purl of the image (ImagePURL) when its manifest
// digest and repository are known.
func (s *Subject) purl() string {
	if s.ManifestDigest == "" || s.Repository == "" {
		return ""
	}
	r, err := ParseImageRef(s.Repository)
	if err != nil {
		return ""
	}
	return r.purl(s.ManifestDigest)
}
