// Package sbom describes what is inside a Nix-built container image as an
// SBOM: SPDX 2.3 or CycloneDX 1.6 JSON, one component per Nix store path.
//
// Two sources give the same components, hashes and edges:
//
//   - FromRecord reads a build record (nixdock.dev/record/v1): the closure
//     Nix reported (narHash, narSize, references, deriver) and the
//     derivations (pname, version, system, inputDrvs for --buildtime).
//   - FromImage reads the image alone, without Nix: it walks the layers
//     once, rebuilds the NAR serialization of every /nix/store path from the
//     tar entries (streaming when the tar is in NAR order, which
//     `tar --sort=name` gives; spooling that one path to a temporary
//     directory otherwise), hashes it with SHA-256 as Nix does for narHash,
//     and scans the same bytes for other store paths' hashes, as Nix scans
//     for references.
//
// Identity is by evidence: the image purl is pkg:oci from the image's
// reference (ImagePURL), a store path's purl the proposed pkg:nix with its
// store path as a qualifier and the nixpkgs namespace only where meta
// shows it, upstream purls and CPEs from meta.identifiers; every value from
// meta is checked (CleanURL, CleanCPE, ParsePURL, LicenseExpression) before
// it is written. Files outside the store are one component (RootFiles);
// build-time inputs stay out of the run-time graph.
//
// A Document is plain data; Encode renders it deterministically: no wall
// clock (Options.Created, else the image's created date), the SPDX document
// namespace and the CycloneDX serial number derived from a hash of the
// content, everything sorted, compact JSON unless pretty. See docs/sbom.md.
package sbom
