// Package publish is the last step of the pipeline: it takes an image the
// builders agreed on to a registry, signed and attested, once and in an
// order that never leaves an unproven or unsigned image behind.
//
// Run checks the build records (sign.CheckRecords, whose one decision is
// agree.Decide), makes the signer ready (a wrong password or no Fulcio
// certificate fails before anything is pushed), pushes the image, signs it
// and attests the SBOM, the reproducibility decision and SLSA provenance.
// Push and Sign are the same steps on their own, for `nixdock push` and
// `nixdock sign`; the Action's publish mode calls Run.
//
// Everything arrives as a typed value: the records already parsed, the
// image already opened, registry credentials, the signing key (its bytes,
// or its file, read only once the records are checked) and its password,
// the SBOM's bytes. Nothing is read from or written to the environment, so
// a caller never has to put a secret there to hand it down. The primitives (pushing,
// cosign signatures, predicates) live in package sign.
//
// Like every nixdock library, the package returns data and never prints;
// its errors name no command-line flag or Action input (the caller says
// how to change the outcome).
package publish
