package nix

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/record"
)

// StoreDir is the Nix store directory nixdock assumes for relative paths.
const StoreDir = storepath.Dir

// rawPathInfo covers both JSON shapes of `nix path-info --json`: Nix up to
// 2.18 prints a list of objects with "path"; Nix 2.19 and later an object
// keyed by store path (with null for invalid paths), and since 2.20 may use
// store paths without the store directory.
type rawPathInfo struct {
	Path       string   `json:"path"`
	NarHash    string   `json:"narHash"`
	NarSize    int64    `json:"narSize"`
	References []string `json:"references"`
	Deriver    *string  `json:"deriver"`
	Ultimate   bool     `json:"ultimate"`
	// RegistrationTime is a number on every Nix version that prints it.
	RegistrationTime int64 `json:"registrationTime"`
}

// ParsePathInfo parses `nix path-info --json` output of any Nix version and
// returns the paths sorted, hashes normalized to "sha256:<hex>".
func ParsePathInfo(data []byte) ([]record.PathInfo, error) {
	var raws []rawPathInfo
	trimmed := strings.TrimSpace(string(data))
	switch {
	case strings.HasPrefix(trimmed, "["):
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, fmt.Errorf("reading nix path-info JSON (list form): %w", err)
		}
	case strings.HasPrefix(trimmed, "{"):
		var m map[string]*rawPathInfo
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("reading nix path-info JSON (object form): %w", err)
		}
		for path, r := range m {
			if r == nil {
				return nil, fmt.Errorf("nix path-info: %s is not a valid store path in this store", path)
			}
			r.Path = path
			raws = append(raws, *r)
		}
	default:
		return nil, fmt.Errorf("reading nix path-info JSON: want a list or an object, got %.40q", trimmed)
	}
	infos := make([]record.PathInfo, 0, len(raws))
	for _, r := range raws {
		if r.Path == "" {
			return nil, fmt.Errorf("nix path-info: an entry has no path")
		}
		hash, err := NormalizeHash(r.NarHash)
		if err != nil {
			return nil, fmt.Errorf("narHash of %s: %w", r.Path, err)
		}
		info := record.PathInfo{Path: absStorePath(r.Path), NarHash: hash, NarSize: r.NarSize, References: []string{}, Ultimate: r.Ultimate, RegistrationTime: r.RegistrationTime}
		for _, ref := range r.References {
			info.References = append(info.References, absStorePath(ref))
		}
		sort.Strings(info.References)
		if r.Deriver != nil && *r.Deriver != "" {
			info.Deriver = absStorePath(*r.Deriver)
		}
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Path < infos[j].Path })
	return infos, nil
}

func absStorePath(p string) string {
	if p == "" || strings.HasPrefix(p, "/") {
		return p
	}
	return StoreDir + "/" + p
}

// NormalizeHash turns any form Nix prints a SHA-256 in (SRI "sha256-<base64>",
// "sha256:<nix base-32>" or "sha256:<hex>") into "sha256:<hex>".
func NormalizeHash(h string) (string, error) {
	var raw []byte
	var err error
	switch {
	case strings.HasPrefix(h, "sha256-"):
		raw, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "sha256-"))
	case strings.HasPrefix(h, "sha256:"):
		body := strings.TrimPrefix(h, "sha256:")
		switch len(body) {
		case 64:
			raw, err = hex.DecodeString(body)
		case 52:
			raw, err = DecodeNix32(body)
		default:
			err = fmt.Errorf("length %d is neither hex (64) nor Nix base-32 (52)", len(body))
		}
	default:
		return "", fmt.Errorf("hash %q is not a SHA-256 in a form Nix prints", h)
	}
	if err == nil && len(raw) != 32 {
		err = fmt.Errorf("%d bytes, want 32", len(raw))
	}
	if err != nil {
		return "", fmt.Errorf("hash %q: %w", h, err)
	}
	return "sha256:" + hex.EncodeToString(raw), nil
}

const nix32Alphabet = storepath.Alphabet

// DecodeNix32 decodes Nix's base-32 (its own alphabet, least significant
// digit last, bits packed from the end).
func DecodeNix32(s string) ([]byte, error) {
	n := len(s) * 5 / 8
	out := make([]byte, n)
	for i := 0; i < len(s); i++ {
		c := s[len(s)-1-i]
		d := strings.IndexByte(nix32Alphabet, c)
		if d < 0 {
			return nil, fmt.Errorf("invalid Nix base-32 character %q", c)
		}
		b := i * 5
		j, k := b/8, b%8
		if j < n {
			out[j] |= byte(d << k)
		}
		if j+1 < n {
			out[j+1] |= byte(d >> (8 - k))
		} else if d>>(8-k) != 0 {
			return nil, fmt.Errorf("invalid Nix base-32: excess bits")
		}
	}
	return out, nil
}

// EncodeNix32 encodes bytes in Nix's base-32, as in store path hashes.
func EncodeNix32(b []byte) string {
	n := (len(b)*8 + 4) / 5
	out := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		bit := i * 5
		j, k := bit/8, bit%8
		c := int(b[j]) >> k
		if j+1 < len(b) {
			c |= int(b[j+1]) << (8 - k)
		}
		out[n-1-i] = nix32Alphabet[c&0x1f]
	}
	return string(out)
}
