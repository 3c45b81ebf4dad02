// Package build runs Nix to build a container image, queries the image's
// runtime closure and derivation, and writes the build record that a second
// builder's record is compared with (package verify).
//
// It speaks to the nix CLI only through Nix, which knows the store, the
// options to pass (--store, --option) and the JSON shapes of Nix 2.8 through
// 2.18 and later.
package build
