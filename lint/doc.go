// Package lint finds the mistakes that make Nix-built container images
// broken, bloated or unreproducible: config keys and values that Nix passes
// through unchecked, runtime files a program needs but the image lacks (CA
// certificates, /etc/services, nsswitch.conf, passwd, a locale archive,
// /tmp), wasted bytes (duplicated content, symlink loops copied repeatedly,
// one layer for a whole closure), and reproducibility hazards (a created
// date or mtimes from the clock, unpinned base images).
//
// Run streams every layer once: file contents are hashed and, for programs,
// scanned for marker strings with a bounded sliding window, and only
// per-file metadata is kept, so memory stays bounded by the number of files,
// not their size. Findings are data (Finding), sorted deterministically, and
// a Result renders itself as text, JSON (schema nixdock.dev/lint/v1),
// SARIF 2.1.0 and Markdown. The rules are documented in docs/lint.md.
package lint
