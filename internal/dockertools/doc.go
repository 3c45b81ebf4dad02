// Package dockertools gives tests the real nixpkgs dockerTools archives in
// testdata/dockertools (see its README): the ground truth of what users
// feed nixdock. Three are stored as zstd deltas of good.tar; Path rebuilds
// them and checks every fixture against SHA256SUMS, so a test never runs
// on bytes that are not the originals.
package dockertools
