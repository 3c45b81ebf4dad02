// Package agree decides whether build records prove an image reproducible.
//
// It is the one place that decides: `nixdock verify`, `diff` with records,
// `sign`, `publish`, `verify-signature` and the Action all call Decide and
// render its Decision; none of them re-decides. A builder counts only when
// its record shows a build of its own (the image derivation built or
// rebuilt in its store, not downloaded), is not a copy of another record
// (same host, store and registration time), and produced the agreed image
// from the agreed derivation. Agreement needs Policy.MinBuilders such
// builders, and Policy.MinHosts distinct hosts among them.
//
// Decide trusts the digests in the records: they were computed by each
// builder from the bytes it built. Images at hand are checked against their
// records elsewhere (verify), and the signed digest is the one the registry
// serves.
package agree
