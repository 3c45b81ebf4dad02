// Package image opens every form a Nix image builder produces as a
// go-containerregistry v1.Image: docker-archives (.tar, .tar.gz, .tar.zst),
// streamLayeredImage scripts, OCI image layouts and registry references.
//
// It also opens nix2container's image JSON, whose layers are not stored
// anywhere: they are re-created from the store paths it lists, as
// nix2container's own tar writer makes them, and each must hash to the
// diff_id the JSON records (see n2ctar.go and docs/design.md).
//
// Layers are read as streams. A compressed archive or a stream script's
// output is spooled once to a temporary file (disk, not memory) so that
// layers can be read at random afterwards; an uncompressed archive is read in
// place. Layer bytes are checked against the config's diff_ids when read:
// a mismatch, a missing blob, a member escaping the archive or a bad
// compressed stream is an error wrapping ErrBadArchive that names the file.
//
// Use Describe for digests and for the image to publish. The v1.Image that
// Open returns for an archive or stream computes a manifest only on demand,
// and go-containerregistry then gzips every layer on one core with its own
// settings; Describe compresses in parallel, with the compressor it names in
// Digests, and returns an image whose manifest matches those digests. Memory
// stays flat: at most MaxDefaultWorkers layers are read at once, each
// through fixed-size buffers.
package image
