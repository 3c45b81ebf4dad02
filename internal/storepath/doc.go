// Package storepath splits paths into Nix store paths: which store path a
// file lies in, and a store path's name without its hash. Every package that
// attributes files to store paths uses it, so they all agree.
package storepath
