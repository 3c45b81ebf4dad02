// Package sign publishes a proven image: it pushes the image to a registry
// (Push), signs it and attaches in-toto attestations the way cosign does
// (Sign: a simple-signing payload under the sha256-<digest>.sig tag and DSSE
// envelopes under sha256-<digest>.att) and, as cosign v3 does, as Sigstore
// bundles in OCI referrers of the image (bundle.go), and verifies what it
// attached in the v2 layout (Verify), so that the stock cosign CLI (v2 and
// v3) verifies nixdock's signatures and nixdock verifies cosign's.
//
// The predicates it attests are built here from data (build records, SBOM
// files, flake.lock): the SBOM itself, the reproducibility attestation
// (https://github.com/nixdock/nixdock-action/attestations/reproducible/v1) and SLSA provenance v1
// with build type https://github.com/nixdock/nixdock-action/buildtypes/nix-image/v1. None of them reads the
// clock: times come from SOURCE_DATE_EPOCH or the image's created date.
//
// Keys are cosign's encrypted key pairs (GenerateKeys, LoadSigner); keyless
// signing takes an OIDC token (from the GitHub Actions token endpoint), gets
// a short-lived certificate from Fulcio and logs the signature in Rekor.
//
// Like every nixdock library, the package returns data and never prints.
package sign
