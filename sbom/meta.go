package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Meta is what nix/sbom-meta.nix prints: package metadata keyed by .drv
// path. Derivations do not carry meta, so it is evaluated from the Nix
// expression and merged into the SBOM by drvPath (or by output path, for
// SBOMs made from an image alone).
type Meta map[string]MetaEntry

// MetaEntry is one derivation's metadata, as evaluated: every value is
// checked when it is applied (apply), not here, so that a hostile value
// costs that value only.
type MetaEntry struct {
	// Licenses are SPDX ids, nixpkgs license short names or expressions.
	Licenses    []string
	Description string
	Homepage    string
	// PName and Version are the derivation's, so that an SBOM of the image
	// alone names a store path as one of its record does.
	PName, Version string
	// Outputs maps output names to store paths.
	Outputs map[string]string
	// Position is meta.position (FILE:LINE); Nixpkgs is true when the
	// helper found that FILE lies in a nixpkgs tree (one with
	// pkgs/top-level/all-packages.nix).
	Position string
	Nixpkgs  bool
	// CPE, CPEParts, PossibleCPEs and PURLs come from meta.identifiers.
	CPE          string
	CPEParts     map[string]string
	PossibleCPEs []string
	PURLs        []string
	// SrcURLs are the source's URLs (src.urls, src.url).
	SrcURLs     []string
	Maintainers []Maintainer
}

// UnmarshalJSON accepts the helper's shape and the shapes of nixpkgs meta
// itself: license as a string, a license attribute set ({spdxId,
// shortName}) or a list of either; homepage as a string or a list;
// possibleCPEs as strings or {cpe} sets.
func (m *MetaEntry) UnmarshalJSON(data []byte) error {
	var raw struct {
		License      json.RawMessage   `json:"license"`
		Description  any               `json:"description"`
		Homepage     json.RawMessage   `json:"homepage"`
		PName        any               `json:"pname"`
		Version      any               `json:"version"`
		Outputs      map[string]string `json:"outputs"`
		Position     any               `json:"position"`
		Nixpkgs      bool              `json:"nixpkgs"`
		CPE          any               `json:"cpe"`
		CPEParts     map[string]any    `json:"cpeParts"`
		PossibleCPEs []any             `json:"possibleCPEs"`
		PURLs        json.RawMessage   `json:"purls"`
		SrcURLs      json.RawMessage   `json:"srcUrls"`
		Maintainers  []json.RawMessage `json:"maintainers"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	lic, err := parseLicenses(raw.License)
	if err != nil {
		return fmt.Errorf("license: %w", err)
	}
	home, err := stringList(raw.Homepage)
	if err != nil {
		return fmt.Errorf("homepage: %w", err)
	}
	purls, err := stringList(raw.PURLs)
	if err != nil {
		return fmt.Errorf("purls: %w", err)
	}
	srcs, err := stringList(raw.SrcURLs)
	if err != nil {
		return fmt.Errorf("srcUrls: %w", err)
	}
	*m = MetaEntry{Licenses: lic, Description: str(raw.Description), PName: str(raw.PName), Version: str(raw.Version),
		Outputs: raw.Outputs, Position: str(raw.Position), Nixpkgs: raw.Nixpkgs, CPE: str(raw.CPE),
		PURLs: purls, SrcURLs: srcs}
	if len(home) > 0 {
		m.Homepage = home[0]
	}
	if len(raw.CPEParts) > 0 {
		m.CPEParts = map[string]string{}
		for k, v := range raw.CPEParts {
			if s := str(v); s != "" {
				m.CPEParts[k] = s
			}
		}
	}
	for _, c := range raw.PossibleCPEs {
		if obj, ok := c.(map[string]any); ok {
			c = obj["cpe"]
		}
		if s := str(c); s != "" {
			m.PossibleCPEs = append(m.PossibleCPEs, s)
		}
	}
	for _, r := range raw.Maintainers {
		var mt Maintainer
		if json.Unmarshal(r, &mt) == nil && (mt.Name != "" || mt.Email != "" || mt.GitHub != "") {
			m.Maintainers = append(m.Maintainers, mt)
		}
	}
	return nil
}

// str is v when it is a string, else "" (meta values of other types are
// not what the field means).
func str(v any) string {
	s, _ := v.(string)
	return s
}

func parseLicenses(msg json.RawMessage) ([]string, error) {
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 || string(msg) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if msg[0] == '[' {
		if err := json.Unmarshal(msg, &list); err != nil {
			return nil, err
		}
	} else {
		list = []json.RawMessage{msg}
	}
	var out []string
	for _, item := range list {
		var s string
		if json.Unmarshal(item, &s) == nil {
			out = append(out, s)
			continue
		}
		var obj struct {
			SPDXID    string `json:"spdxId"`
			ShortName string `json:"shortName"`
			FullName  string `json:"fullName"`
		}
		if err := json.Unmarshal(item, &obj); err != nil {
			return nil, fmt.Errorf("want a string or a license attribute set, got %.40s", item)
		}
		switch {
		case obj.SPDXID != "":
			out = append(out, obj.SPDXID)
		case obj.ShortName != "":
			out = append(out, obj.ShortName)
		case obj.FullName != "":
			out = append(out, obj.FullName)
		}
	}
	return out, nil
}

// stringList reads a string or a list of strings (other items skipped).
func stringList(msg json.RawMessage) ([]string, error) {
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 || string(msg) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(msg, &s) == nil {
		return []string{s}, nil
	}
	var list []any
	if err := json.Unmarshal(msg, &list); err != nil {
		return nil, fmt.Errorf("want a string or a list of strings, got %.40s", msg)
	}
	var out []string
	for _, v := range list {
		if s := str(v); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseMeta parses the helper's JSON output.
func ParseMeta(data []byte) (Meta, error) {
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not sbom-meta JSON ({drvPath: {license, description, homepage}}): %w", err)
	}
	for k := range m {
		if !strings.HasSuffix(k, ".drv") {
			return nil, fmt.Errorf("sbom-meta key %q is not a .drv path", k)
		}
	}
	return m, nil
}

// ReadMeta reads a file written by nix/sbom-meta.nix.
func ReadMeta(path string) (Meta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading meta: %w", err)
	}
	m, err := ParseMeta(data)
	if err != nil {
		return nil, fmt.Errorf("meta %s: %w", path, err)
	}
	return m, nil
}

// apply merges m into the components, by deriver or by output path,
// checking every value; what it drops is in the returned warnings.
func (m Meta) apply(comps []Component) (warnings []string) {
	byOut := map[string]*MetaEntry{}
	outName := map[string]string{}
	for _, drv := range sortedKeys(m) {
		e := m[drv]
		for name, out := range e.Outputs {
			byOut[out] = &e
			outName[out] = name
		}
	}
	for i := range comps {
		c := &comps[i]
		e, ok := m[c.Deriver]
		if !ok || c.Deriver == "" {
			p, found := byOut[c.Path]
			if !found {
				continue
			}
			e = *p
		}
		if c.NameFrom != "derivation" && e.PName != "" {
			// The image alone: name it as its record does.
			c.Name, c.Version, c.NameFrom = e.PName, e.Version, "derivation"
			if o := outName[c.Path]; o != "" {
				c.Output = o
			}
		}
		warnings = append(warnings, c.applyMeta(&e)...)
	}
	return warnings
}

// applyMeta sets c's metadata from e, value by value, dropping what does
// not check.
func (c *Component) applyMeta(e *MetaEntry) (warnings []string) {
	drop := func(what string, err error) {
		warnings = append(warnings, fmt.Sprintf("%s: %s dropped: %v", c.Path, what, err))
	}
	c.License, _ = LicenseExpression(e.Licenses)
	c.Description = e.Description
	c.Homepage = ""
	if e.Homepage != "" {
		if u, err := CleanURL(e.Homepage); err != nil {
			drop("homepage", err)
		} else {
			c.Homepage = u
		}
	}
	for _, s := range e.SrcURLs {
		if u, err := CleanURL(s); err == nil {
			c.DownloadLocation = u
			break
		}
	}
	if e.Nixpkgs {
		c.Origin = NixpkgsNamespace
	}
	c.Maintainers = append([]Maintainer(nil), e.Maintainers...)
	c.CPEs = nil
	seen := map[string]bool{}
	addCPE := func(s string) bool {
		if s == "" {
			return false
		}
		v, err := CleanCPE(s)
		if err != nil {
			drop("CPE", err)
			return false
		}
		if !seen[v] {
			seen[v] = true
			c.CPEs = append(c.CPEs, v)
		}
		return true
	}
	if !addCPE(e.CPE) {
		addCPE(cpeFromParts(e.CPEParts))
	}
	for _, s := range e.PossibleCPEs {
		addCPE(s)
	}
	c.UpstreamPURLs = nil
	seenP := map[string]bool{}
	for _, s := range e.PURLs {
		p, err := CanonicalPURL(s)
		if err != nil {
			drop("purl", err)
			continue
		}
		if !seenP[p] {
			seenP[p] = true
			c.UpstreamPURLs = append(c.UpstreamPURLs, p)
		}
	}
	return warnings
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
