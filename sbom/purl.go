package sbom

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// NixpkgsNamespace is the pkg:nix namespace of packages known to come from
// nixpkgs (their meta.position lies in a nixpkgs tree).
const NixpkgsNamespace = "nixpkgs"

// PURL is a package URL (ECMA-427). String writes the canonical form that
// packageurl-go writes too: qualifiers sorted by key, everything but the
// unreserved characters and ':' percent-encoded ('/' too, inside a
// qualifier value), so that tools that re-parse and re-write a purl (syft
// convert) leave it as it is.
type PURL struct {
	Type       string
	Namespace  string // '/'-separated segments
	Name       string
	Version    string
	Qualifiers [][2]string
	Subpath    string
}

// String renders p canonically.
func (p PURL) String() string {
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(strings.ToLower(p.Type))
	b.WriteByte('/')
	for _, seg := range strings.Split(p.Namespace, "/") {
		if seg != "" {
			b.WriteString(purlEscape(seg))
			b.WriteByte('/')
		}
	}
	b.WriteString(purlEscape(p.Name))
	if p.Version != "" {
		b.WriteByte('@')
		b.WriteString(purlEscape(p.Version))
	}
	qs := append([][2]string(nil), p.Qualifiers...)
	sort.SliceStable(qs, func(i, j int) bool { return qs[i][0] < qs[j][0] })
	sep := byte('?')
	for _, q := range qs {
		if q[1] == "" {
			continue // the spec drops empty qualifiers
		}
		b.WriteByte(sep)
		b.WriteString(strings.ToLower(q[0]))
		b.WriteByte('=')
		b.WriteString(purlEscape(q[1]))
		sep = '&'
	}
	if sub := strings.Trim(p.Subpath, "/"); sub != "" {
		b.WriteByte('#')
		for i, seg := range strings.Split(sub, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(purlEscape(seg))
		}
	}
	return b.String()
}

// ParsePURL parses a purl strictly: the pkg scheme, a valid type, a
// non-empty name, valid percent-encoding, qualifier keys that are valid
// and not repeated. It is what every purl nixdock writes (its own and those
// from a package's meta) passes first.
func ParsePURL(s string) (PURL, error) {
	var p PURL
	bad := func(why string, args ...any) (PURL, error) {
		return PURL{}, fmt.Errorf("%q is not a purl: %s", s, fmt.Sprintf(why, args...))
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return bad("it has white space")
	}
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		if len(s) >= 4 && strings.EqualFold(s[:4], "pkg:") {
			rest = s[4:]
		} else {
			return bad("no pkg: scheme")
		}
	}
	rest = strings.TrimLeft(rest, "/")
	rest, sub, _ := strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok || !validPURLType(typ) {
		return bad("no valid type (letters, digits, '.', '+', '-'; not starting with a digit)")
	}
	p.Type = strings.ToLower(typ)
	rest = strings.Trim(rest, "/")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		v, err := url.PathUnescape(rest[i+1:])
		if err != nil || v == "" {
			return bad("version %q", rest[i+1:])
		}
		p.Version = v
		rest = rest[:i]
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil || d == "" || strings.Contains(d, "/") {
			return bad("path segment %q", seg)
		}
		segs[i] = d
	}
	p.Name = segs[len(segs)-1]
	p.Namespace = strings.Join(segs[:len(segs)-1], "/")
	if p.Name == "" {
		return bad("no name")
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ToLower(k)
		if !ok || !validQualifierKey(k) || seen[k] {
			return bad("qualifier %q", kv)
		}
		seen[k] = true
		d, err := url.PathUnescape(v)
		if err != nil {
			return bad("qualifier value %q", v)
		}
		if d != "" {
			p.Qualifiers = append(p.Qualifiers, [2]string{k, d})
		}
	}
	for _, seg := range strings.Split(strings.Trim(sub, "/"), "/") {
		d, err := url.PathUnescape(seg)
		if err != nil || d == "." || d == ".." || strings.Contains(d, "/") {
			return bad("subpath %q", sub)
		}
	}
	if sub != "" {
		p.Subpath = strings.Trim(sub, "/")
		dec, _ := url.PathUnescape(p.Subpath)
		p.Subpath = dec
	}
	return p, nil
}

// CanonicalPURL parses s strictly and writes it back canonically.
func CanonicalPURL(s string) (string, error) {
	p, err := ParsePURL(s)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

func validPURLType(t string) bool {
	if t == "" || t[0] >= '0' && t[0] <= '9' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func validQualifierKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NixPURL is the pkg:nix purl of a store path, after the nix type proposed
// for the purl spec (purl-spec PR 877; PR 314 before it):
//
//	pkg:nix[/nixpkgs]/<name>@<version>?output=<output>&store_path=<path>
//
// Name and version are the derivation's pname and version (else the store
// path name split by Nix's rule); the namespace is nixpkgs only when
// c.Origin says so; output is written when it is not "out" (the store path
// name carries the same: Nix appends non-default outputs to it), so that a
// store path gets the same purl from a record as from the image alone.
func NixPURL(c *Component) string {
	p := PURL{Type: "nix", Namespace: c.Origin, Name: c.Name, Version: c.Version,
		Qualifiers: [][2]string{{"store_path", c.Path}}}
	if c.Output != "" && c.Output != "out" {
		p.Qualifiers = append(p.Qualifiers, [2]string{"output", c.Output})
	}
	return p.String()
}

// purlEscape percent-encodes everything but the purl spec's unreserved
// characters and ':'.
func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '~' || c == ':' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
