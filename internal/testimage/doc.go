// Package testimage builds small images for tests, in the spirit of
// go-containerregistry's random.Image but with content a test chooses:
// layers from tar entries (Layer, V1Layer) and docker-archives whose
// config may claim any diff_id (Archive), so a test can tamper with a
// layer under an intact config. The bytes are deterministic (fixed modes,
// times and tar format), so digests in golden files stay put. It depends
// on no nixdock package, so any package's tests may use it.
package testimage
