// Package recsig signs a build record's exact bytes with the builder's own
// keyless (Fulcio) identity and verifies such a signature, so that "two
// builders" is a fact two CI jobs attest to, not a claim a record makes.
//
// The signature is a Sigstore bundle (v0.3 JSON) holding a DSSE envelope
// whose payload is the record's bytes, of payload type
// application/vnd.nixdock.record+json, and the Fulcio certificate. DSSE
// rather than a bare message signature because its pre-authentication
// encoding binds the payload type: the same keyless identity signs images
// and attestations in the publish job, and none of those signatures can be
// presented as a record's, nor a record's as theirs. The bundle is written
// next to the record (RECORD.sigstore.json, see Path).
//
// Verify checks the signature over the exact bytes of the record file, the
// certificate's chain to the given roots, its identity (SAN) and OIDC
// issuer, and returns the verified identity. It has no transparency log
// entry: the chain is checked at the certificate's issuance time (Fulcio
// certificates live ten minutes and their key is ephemeral).
package recsig
