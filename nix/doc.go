// Package nix is nixdock's one way to talk to Nix: the command runner (Nix,
// which knows the store, the --option flags to pass and which Nix version
// prints which JSON), the parsers of that JSON (path-info, derivation show,
// build --json) for Nix 2.8 through 2.34, Nix's base-32, and store paths.
// A failed call is an *Error naming the command and what Nix said.
//
// It also holds the Nix expressions nixdock evaluates, embedded in the
// binary so that an installed nixdock needs no checkout of its repository:
// SBOMMeta is nix/sbom-meta.nix, which `nixdock sbom --eval-meta` applies to
// the installable; users may still run the file by hand.
package nix
