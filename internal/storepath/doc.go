// Package storepath owns what a Nix store path is: the store directory, the
// base-32 alphabet of its hash, the rule for a base name (IsBase) and the
// splitting of paths into store paths (Of, Split, Hash, Name, RootOf), plus
// regular expressions for finding them in text. Every package that
// attributes files to store paths or validates one uses it, so they all
// agree; it imports nothing of nixdock, so nix, record, image, sbom, lint
// and verify can all use it.
//
// Store paths stay plain strings: the record, the reports and the SBOM
// hold them as JSON strings, and these functions work on those strings in
// place (Of and Split allocate nothing for an absolute path).
package storepath
