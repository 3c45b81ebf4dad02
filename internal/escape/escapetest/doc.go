// Package escapetest generates hostile names (store paths, file names,
// label keys, builder ids) and checks that a rendered output shows them
// only escaped. Tests of every renderer use it, so that they all try the
// same attacks.
package escapetest
