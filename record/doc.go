// Package record owns the build record (schema nixdock.dev/record/v1): what
// one builder built (Record, Builder, Installable, the closure's PathInfo,
// the Derivations, the image's Origin), written deterministically and read
// strictly (Parse refuses unknown, duplicate or miscased keys and a record
// Check rejects), since a record is a file anyone may write.
//
// It runs nothing: package nix fills PathInfo and Derivation from Nix's
// JSON, and package build assembles a Record (docs/record.md).
package record
