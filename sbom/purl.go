package sbom

import (
	"strings"
)

// DefaultPurlNamespace is the purl namespace of store paths when none is
// given: the proposed nix type (purl-spec PR 877) requires one, the origin
// of the package set.
const DefaultPurlNamespace = "nixpkgs"

// PURL returns the provisional package URL of a component, after the purl
// type for Nix proposed in purl-spec PR 877:
//
//	pkg:nix/<namespace>/<name>@<version>?output=<output>&system=<system>
//
// The proposal names packages by attribute path; a store path only carries
// pname (or the name parsed from the path), which is what nixdock uses.
// Qualifiers are sorted by key, as the purl spec requires.
func PURL(namespace string, c *Component) string {
	if namespace == "" {
		namespace = DefaultPurlNamespace
	}
	var b strings.Builder
	b.WriteString("pkg:nix/")
	b.WriteString(purlEscape(strings.ToLower(namespace)))
	b.WriteByte('/')
	b.WriteString(purlEscape(c.Name))
	if c.Version != "" {
		b.WriteByte('@')
		b.WriteString(purlEscape(c.Version))
	}
	sep := byte('?')
	for _, q := range [][2]string{{"output", c.Output}, {"system", c.System}} {
		if q[1] == "" {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(q[0] + "=" + purlEscape(q[1]))
		sep = '&'
	}
	return b.String()
}

// purlEscape percent-encodes everything but the purl spec's unreserved
// characters.
func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
