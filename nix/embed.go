package nix

import (
	_ "embed"
	"strings"
)

// SBOMMeta is the text of sbom-meta.nix: a function of {file, attr, drv,
// ...} returning package metadata keyed by .drv path.
//
//go:embed sbom-meta.nix
var SBOMMeta string

// SBOMMetaApply is a `nix eval --apply` function that runs sbom-meta.nix on
// the installable's value. The expression is inlined, not imported from a
// temporary file: pure evaluation (flakes) refuses to import paths outside
// the store, while an inlined expression is part of the command line.
func SBOMMetaApply() string {
	return "d: (\n" + strings.TrimSpace(SBOMMeta) + "\n) { drv = d; }"
}
