// Package version reports nixdock's version, commit and Go version, from
// -ldflags when set and from the Go build information otherwise.
package version
