// Package nix holds the Nix expressions nixdock evaluates, embedded in the
// binary so that an installed nixdock needs no checkout of its repository.
//
// SBOMMeta is nix/sbom-meta.nix, which `nixdock sbom --eval-meta` applies
// to the installable; users may still run the file by hand.
package nix
