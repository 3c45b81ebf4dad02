// Package recsigtest is a stand-in Fulcio for tests: a self-made CA that
// issues short-lived code-signing certificates with Fulcio's identity
// extensions, so record signatures can be made and verified offline.
package recsigtest
