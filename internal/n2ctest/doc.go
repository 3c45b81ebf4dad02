// Package n2ctest writes nix2container image JSON for tests: a store path
// under a chroot root, and a JSON whose recorded diff_id is not the one
// the path's layer hashes to, as when a store path changed after
// nix2container hashed it.
package n2ctest
