package sbom

import (
	_ "embed"
	"sort"
	"strings"
)

// spdxLicenseIDs is the SPDX license list (licenses, deprecated licenses,
// exceptions; the version is on its first line, a comment), one id a line.
// TestLicenseListCurrent keeps it equal to the list github.com/github/go-spdx
// embeds: update that module and regenerate with `go test ./sbom/ -run
// TestLicenseListCurrent -update`.
//
//go:embed spdx-license-ids.txt
var spdxLicenseIDs string

var spdxIDs, spdxExceptions = func() (ids, exceptions map[string]string) {
	ids, exceptions = map[string]string{}, map[string]string{}
	into := ids
	for _, line := range strings.Split(spdxLicenseIDs, "\n") {
		id := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(id, "# exceptions"):
			into = exceptions
		case id == "" || strings.HasPrefix(id, "#"):
		default:
			into[strings.ToLower(id)] = id
		}
	}
	return ids, exceptions
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
// operators. An expression that does not parse (a dangling operator,
// unbalanced parentheses, an exception not on the SPDX list) becomes one
// LicenseRef of the whole text: never an invalid expression.
func licenseTerm(s string, ref func(string)) (expr string, compound bool) {
	tokens := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s))
	whole := func() (string, bool) {
		id := licenseID(s, false)
		if strings.HasPrefix(id, "LicenseRef-") {
			ref(id)
		}
		return id, false
	}
	if !hasOperator(tokens) {
		// A plain name, possibly with spaces ("Public Domain"): one id.
		return whole()
	}
	out, refs, ok := parseLicenseExpr(tokens)
	if !ok {
		return whole()
	}
	for _, r := range refs {
		ref(r)
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.Join(out, " "), "( ", "("), " )", ")"), true
}

// parseLicenseExpr checks tokens against the SPDX expression grammar
//
//	expr = and *("OR" and); and = with *("AND" with)
//	with = simple ["WITH" exception]; simple = "(" expr ")" / id
//
// and returns them with ids canonical, plus the LicenseRefs used.
func parseLicenseExpr(tokens []string) (out, refs []string, ok bool) {
	pos := 0
	peek := func() string {
		if pos < len(tokens) {
			return strings.ToUpper(tokens[pos])
		}
		return ""
	}
	var expr func(depth int) bool
	simple := func(depth int) bool {
		switch t := peek(); t {
		case "(":
			if depth > 32 {
				return false
			}
			out = append(out, "(")
			pos++
			if !expr(depth+1) || peek() != ")" {
				return false
			}
			out = append(out, ")")
			pos++
			return true
		case "", ")", "AND", "OR", "WITH":
			return false
		default:
			id := licenseID(tokens[pos], false)
			if strings.HasPrefix(id, "LicenseRef-") {
				refs = append(refs, id)
			}
			out = append(out, id)
			pos++
			return true
		}
	}
	with := func(depth int) bool {
		if !simple(depth) {
			return false
		}
		if peek() != "WITH" {
			return true
		}
		pos++
		if pos >= len(tokens) {
			return false
		}
		exc, known := spdxExceptions[strings.ToLower(tokens[pos])]
		if !known {
			return false
		}
		out = append(out, "WITH", exc)
		pos++
		return true
	}
	expr = func(depth int) bool {
		for {
			if !with(depth) {
				return false
			}
			switch op := peek(); op {
			case "AND", "OR":
				out = append(out, op)
				pos++
			default:
				return true
			}
		}
	}
	if !expr(0) || pos != len(tokens) {
		return nil, nil, false
	}
	return out, refs, true
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
