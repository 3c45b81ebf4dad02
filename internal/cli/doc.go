// Package cli is nixdock's command line: subcommands, flags, output formats
// and exit codes. Commands call the library packages (build, image, verify,
// sbom, sign) and render the data they return; they never compute.
//
// Exit codes (see docs/cli.md): 0 same/clean, 1 differs/findings, 2 usage
// error, 3 failure (bad input, Nix failed, registry error).
package cli
