package sbom

import (
	"fmt"
	"strings"
)

// ImageRef is an image reference split the way the purl spec's oci type
// needs it: the registry (empty when the reference names none), the
// repository path, and the tag and digest when given.
type ImageRef struct {
	Registry string // "ghcr.io", "127.0.0.1:5055"; "" when not named
	Path     string // "me/hello", lower-cased
	Tag      string
	Digest   string // "sha256:<hex>"
}

// Repository is REGISTRY/PATH, or PATH when no registry is named.
func (r ImageRef) Repository() string {
	if r.Registry == "" {
		return r.Path
	}
	return r.Registry + "/" + r.Path
}

// Name is the last path element: the purl name of the image.
func (r ImageRef) Name() string {
	return r.Path[strings.LastIndexByte(r.Path, '/')+1:]
}

// ParseImageRef splits an image reference ([REGISTRY/]PATH[:TAG][@DIGEST]).
// The registry is the first element when it looks like a host (a '.' or a
// ':' in it, or "localhost"), as Docker decides it; Docker Hub's index
// host is written docker.io. The path is lower-cased (OCI repositories
// are lower-case; the purl spec lower-cases the name) and must be made of
// OCI path components.
func ParseImageRef(s string) (ImageRef, error) {
	var r ImageRef
	rest := strings.TrimSpace(s)
	if rest == "" {
		return r, fmt.Errorf("empty image reference")
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		if err := checkDigest(r.Digest); err != nil {
			return r, fmt.Errorf("image reference %q: %w", s, err)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		r.Tag = rest[i+1:]
		rest = rest[:i]
		if !validTag(r.Tag) {
			return r, fmt.Errorf("image reference %q: tag %q is not a valid tag", s, r.Tag)
		}
	}
	if first, after, ok := strings.Cut(rest, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry = strings.ToLower(first)
		rest = after
		if r.Registry == "index.docker.io" || r.Registry == "registry-1.docker.io" {
			r.Registry = "docker.io"
		}
		if !validHost(r.Registry) {
			return r, fmt.Errorf("image reference %q: %q is not a registry host[:port]", s, first)
		}
	}
	r.Path = strings.ToLower(rest)
	if r.Registry == "docker.io" && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	for _, c := range strings.Split(r.Path, "/") {
		if !validPathComponent(c) {
			return r, fmt.Errorf("image reference %q: %q is not a repository path component (lower-case letters, digits and . _ - between them)", s, c)
		}
	}
	return r, nil
}

// ImagePURL is the purl of an image: pkg:oci/NAME@DIGEST?repository_url=
// REGISTRY/PATH, with NAME the last path element of ref's repository,
// lower-cased; tags are never part of it. digest may be empty when ref is
// a digest reference; when both are given they must agree. A reference
// without a registry ("hello:1.0", from an archive's RepoTags) has no
// repository_url: nothing says where it is published. Package sign uses
// it for attestation subjects, so that the SBOM and its attestation name
// the image alike.
func ImagePURL(ref, digest string) (string, error) {
	r, err := ParseImageRef(ref)
	if err != nil {
		return "", err
	}
	switch {
	case digest == "":
		digest = r.Digest
	case r.Digest != "" && r.Digest != digest:
		return "", fmt.Errorf("image reference %q names digest %s, not %s", ref, r.Digest, digest)
	}
	if digest == "" {
		return "", fmt.Errorf("image %q: no manifest digest", ref)
	}
	if err := checkDigest(digest); err != nil {
		return "", err
	}
	return r.purl(digest), nil
}

func (r ImageRef) purl(digest string) string {
	p := PURL{Type: "oci", Name: r.Name(), Version: digest}
	if r.Registry != "" {
		p.Qualifiers = [][2]string{{"repository_url", r.Repository()}}
	}
	return p.String()
}

// checkDigest accepts sha256:<64 hex> and sha512:<128 hex>.
func checkDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if !ok || want == 0 || len(hex) != want || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits> or sha512:<128>", d)
	}
	return nil
}

// validPathComponent: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, as the OCI
// distribution spec has it.
func validPathComponent(c string) bool {
	if c == "" || !isAlnumLower(c[0]) || !isAlnumLower(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case isAlnumLower(ch):
		case ch == '.':
			if !isAlnumLower(c[i+1]) {
				return false
			}
		case ch == '_':
			if c[i+1] == '_' {
				i++
			}
			if !isAlnumLower(c[i+1]) {
				return false
			}
		case ch == '-':
			// any run of dashes, then an alphanumeric
		default:
			return false
		}
	}
	return true
}

func isAlnumLower(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(isAlnumLower(c) || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validHost(h string) bool {
	host, port, hasPort := strings.Cut(h, ":")
	if hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
		return false
	}
	if host == "" {
		return false
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return true // an IPv6 literal
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnumLower(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

// fallbackRef turns a file name into a repository name when nothing
// better is known: archive extensions dropped, lower-cased, characters
// an OCI path component cannot hold replaced by '-'. "" when nothing is
// left.
func fallbackRef(base string) string {
	for _, ext := range []string{".tar.gz", ".tar.zst", ".tgz", ".tar"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	b := []byte(strings.ToLower(base))
	for i, c := range b {
		if !isAlnumLower(c) && c != '.' && c != '_' && c != '-' {
			b[i] = '-'
		}
	}
	s := strings.Trim(string(b), "._-")
	if !validPathComponent(s) {
		return ""
	}
	return s
}
