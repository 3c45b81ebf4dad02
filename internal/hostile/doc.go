// Package hostile generates the hostile inputs of the limit tests: tar
// layers and docker-archives that cost little to store but much to read
// (sparse files of many GiB, layers of a million entries, configs of
// millions of labels). The generators are deterministic, so the tests and
// benchmarks that use them need no stored fixtures.
package hostile
