// Package demotest runs the README's first command, scripts/demo, as CI
// runs it: with the cosign CLIs v2 and v3 checking what it signed, and its
// SBOMs checked against the official schemas.
package demotest
