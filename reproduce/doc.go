// Package reproduce builds an image twice in isolated Nix stores, with
// deliberate variation between the two builds, and verifies the pair: the
// single-job and laptop form of the two-runner check.
//
// Each build gets its own fresh chroot store (so nothing built by one can be
// reused by the other), the Nix sandbox is on, and substituters stay as the
// user configured them: what is built twice is exactly what no binary cache
// has, and the result says which derivations those were.
package reproduce
