// Package nixtest builds the images of testdata/nix with the real Nix for
// tests: offline (no substituters), in the Nix sandbox (on explicitly: some
// machines' nix.conf turns it off) with the host's /bin, /usr,
// /lib and /lib64 visible to the builders, and in chroot stores when asked.
//
// Without Nix the tests that need it skip, unless NIXDOCK_REQUIRE_NIX=1
// (set by .ci/run and scripts/test), which makes them fail instead.
package nixtest
