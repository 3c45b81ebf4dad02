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

// MetaEntry is one derivation's metadata.
type MetaEntry struct {
	// Licenses are SPDX ids, nixpkgs license short names or expressions.
	Licenses    []string
	Description string
	Homepage    string
	// Outputs maps output names to store paths.
	Outputs map[string]string
	// CPE and PURLs come from meta.identifiers where nixpkgs sets them.
	CPE   string
	PURLs []string
}

// UnmarshalJSON accepts the helper's shape and the shapes of nixpkgs meta
// itself: license as a string, a license attribute set ({spdxId,
// shortName}) or a list of either; homepage as a string or a list.
func (m *MetaEntry) UnmarshalJSON(data []byte) error {
	var raw struct {
		License     json.RawMessage   `json:"license"`
		Description string            `json:"description"`
		Homepage    json.RawMessage   `json:"homepage"`
		Outputs     map[string]string `json:"outputs"`
		CPE         string            `json:"cpe"`
		PURLs       []string          `json:"purls"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	lic, err := parseLicenses(raw.License)
	if err != nil {
		return fmt.Errorf("license: %w", err)
	}
	home, err := firstString(raw.Homepage)
	if err != nil {
		return fmt.Errorf("homepage: %w", err)
	}
	*m = MetaEntry{Licenses: lic, Description: raw.Description, Homepage: home,
		Outputs: raw.Outputs, CPE: raw.CPE, PURLs: raw.PURLs}
	return nil
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

func firstString(msg json.RawMessage) (string, error) {
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 || string(msg) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(msg, &s) == nil {
		return s, nil
	}
	var list []string
	if err := json.Unmarshal(msg, &list); err != nil {
		return "", fmt.Errorf("want a string or a list of strings, got %.40s", msg)
	}
	if len(list) == 0 {
		return "", nil
	}
	return list[0], nil
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

// apply merges m into the components, by deriver or by output path, and
// returns the LicenseRefs used.
func (m Meta) apply(comps []Component) {
	byOut := map[string]*MetaEntry{}
	for _, drv := range sortedKeys(m) {
		e := m[drv]
		for _, out := range e.Outputs {
			byOut[out] = &e
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
		c.License, _ = LicenseExpression(e.Licenses)
		c.Description, c.Homepage, c.CPE = e.Description, e.Homepage, e.CPE
		c.ExtraPURLs = append([]string(nil), e.PURLs...)
		sort.Strings(c.ExtraPURLs)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
