// Package humanize formats quantities for people: byte counts in binary
// units, as the CLI and the lint report print them.
package humanize
