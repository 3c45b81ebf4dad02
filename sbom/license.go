package sbom

import (
	_ "embed"
	"sort"
	"strings"
)

// spdxLicenseIDs is the SPDX license and exception list (v3.17) that the
// CycloneDX 1.6 schema enumerates (spdx.schema.json), one id a line.
//
//go:embed spdx-license-ids.txt
var spdxLicenseIDs string

var spdxIDs = func() map[string]string {
	m := map[string]string{}
	for _, id := range strings.Fields(spdxLicenseIDs) {
		m[strings.ToLower(id)] = id
	}
	return m
}()

// LicenseExpression turns the licenses of a Nix package's meta (SPDX ids,
// nixpkgs short names, or expressions such as "MIT OR Apache-2.0") into one
// SPDX license expression. Ids on the SPDX list get their canonical case;
// anything else becomes LicenseRef-<name> (returned in refs, which SPDX
// documents must declare). Several licenses are joined with AND: nixpkgs
// lists every license that applies to some part of the package.
func LicenseExpression(names []string) (expr string, refs []string) {
	var parts []string
	seenRef := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		e, compound := licenseTerm(n, func(ref string) {
			if !seenRef[ref] {
				seenRef[ref] = true
				refs = append(refs, ref)
			}
		})
		if compound && len(names) > 1 {
			e = "(" + e + ")"
		}
		parts = append(parts, e)
	}
	sort.Strings(refs)
	return strings.Join(parts, " AND "), refs
}

// licenseTerm maps one name or expression; compound is true when it has
// operators.
func licenseTerm(s string, ref func(string)) (expr string, compound bool) {
	tokens := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s))
	if !hasOperator(tokens) {
		// A plain name, possibly with spaces ("Public Domain"): one id.
		id := licenseID(s, false)
		if strings.HasPrefix(id, "LicenseRef-") {
			ref(id)
		}
		return id, false
	}
	out := make([]string, 0, len(tokens))
	afterWith := false
	for _, t := range tokens {
		switch up := strings.ToUpper(t); {
		case t == "(" || t == ")":
			out = append(out, t)
		case up == "AND" || up == "OR" || up == "WITH":
			out = append(out, up)
			compound = true
			afterWith = up == "WITH"
			continue
		default:
			id := licenseID(t, afterWith)
			if strings.HasPrefix(id, "LicenseRef-") {
				ref(id)
			}
			out = append(out, id)
		}
		afterWith = false
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.Join(out, " "), "( ", "("), " )", ")"), compound
}

func hasOperator(tokens []string) bool {
	for _, t := range tokens {
		switch strings.ToUpper(t) {
		case "AND", "OR", "WITH":
			return true
		}
	}
	return false
}

// licenseID returns the canonical SPDX id for s, or a LicenseRef.
func licenseID(s string, exception bool) string {
	if id, ok := spdxIDs[strings.ToLower(s)]; ok {
		return id
	}
	if base, ok := strings.CutSuffix(s, "+"); ok && !exception {
		if id, ok := spdxIDs[strings.ToLower(base)]; ok {
			return id + "+"
		}
	}
	if rest, ok := strings.CutPrefix(s, "LicenseRef-"); ok {
		return "LicenseRef-" + idString(rest)
	}
	return "LicenseRef-" + idString(s)
}

// idString keeps the characters SPDX allows in ids (letters, digits, '.'
// and '-') and replaces the others with '-'.
func idString(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}
