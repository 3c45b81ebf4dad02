// Package build runs one build: Run has Nix build the installable, opens
// and digests the image it produced, queries its closure and derivations and
// returns the build record (package record) that a second builder's record
// is compared with (package verify).
//
// It speaks to Nix only through package nix and writes no record itself.
package build
