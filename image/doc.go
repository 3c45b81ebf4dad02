// Package image opens every form a Nix image builder produces as a
// go-containerregistry v1.Image: docker-archives (.tar, .tar.gz, .tar.zst),
// streamLayeredImage scripts, OCI image layouts and registry references.
//
// Layers are read as streams. A compressed archive or a stream script's
// output is spooled once to a temporary file (disk, not memory) so that
// layers can be read at random afterwards; an uncompressed archive is read in
// place. Layer bytes are checked against the config's diff_ids when read.
package image
