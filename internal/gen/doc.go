// Package gen writes large, deterministic docker-archives for benchmarks and
// tests: a Nix-shaped image of many store paths
// (/nix/store/<32 nix32 chars>-pkg-NNNN-1.0/...) spread over many layers,
// with a mix of incompressible (random) and compressible (text) files, in the
// layout nixpkgs dockerTools writes (manifest.json, <sha>.json config,
// <sha>/layer.tar, GNU tar, uid 0, mtime 1, sorted).
//
// The same Options give the same bytes on every run and machine (the data
// comes from ChaCha8 seeded by Options.Seed and the file's position), so
// two builders can generate "the same image" independently. DifferFile makes
// a variant that differs from the default in exactly one file, as an
// unreproducible build would: the store path names stay the same.
//
// Command genimage (internal/gen/cmd/genimage) is the command line:
//
//	go run ./internal/gen/cmd/genimage -size 1G -out /tmp/a.tar
//	go run ./internal/gen/cmd/genimage -size 1G -paths 2000 -layers 100 -out /tmp/a.tar -list /tmp/a.json
//	go run ./internal/gen/cmd/genimage -size 1G -paths 2000 -layers 100 -differ-file 42 -out /tmp/b.tar
//
// Flags (the fields of Options):
//
//	-size N         total size of the files in the image (K, M, G suffixes; default 1G);
//	                the archive is this plus tar headers and padding
//	-paths N        number of store paths (default 2000)
//	-layers N       number of layers; store paths are spread evenly over them,
//	                in sorted order (default 100)
//	-compressible F share of the bytes that are compressible text (0..1, default 0.5)
//	-seed S         seed of all generated data (default "nixdock")
//	-differ-file I  make store path number I (0-based) differ in one file,
//	                share/<pname>/build-info, as a build timestamp would
//	                (default -1: no difference)
//	-out FILE       the archive to write (required)
//	-list FILE      also write a JSON list of the store paths, the layer
//	                each is in, and the differing file (see Summary)
//
// Every store path has bin/<pname> (a small script), lib/lib<pname>.so
// (random bytes), share/<pname>/data-K.txt (text) and
// share/<pname>/build-info (one line, the file -differ-file changes).
package gen
