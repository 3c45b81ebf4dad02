// Package golden compares test output with golden files in testdata/, and
// rewrites them when the test binary runs with -update.
package golden
