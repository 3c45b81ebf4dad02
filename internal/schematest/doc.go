// Package schematest validates documents against the official JSON
// schemas kept in sbom/testdata/schema (SPDX 2.3, CycloneDX 1.6), for the
// tests of every package that writes SBOMs.
package schematest
