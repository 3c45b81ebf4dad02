package storepath

import (
	"path"
	"strings"
)

// Dir is the Nix store directory.
const Dir = "/nix/store"

// HashLen is the length of a store path's hash, in base-32 characters.
const HashLen = 32

// Alphabet is Nix's base-32 alphabet (no e, o, u, t), the characters of a
// store path's hash.
const Alphabet = "0123456789abcdfghijklmnpqrsvwxyz"

// HashPattern and NamePattern are regular expressions (without anchors)
// for a store path's hash and its name: "Dir/" HashPattern "-" NamePattern
// finds store paths in text. The hash is IsBase's; the name is limited to
// the characters Nix allows in one, so that a match in text ends where the
// path does (IsBase, which judges a whole base name, does not check them).
const (
	HashPattern = "[0-9a-df-np-sv-z]{32}"
	NamePattern = "[A-Za-z0-9+._?=-]+"
)

var isHashChar = func() (t [256]bool) {
	for i := 0; i < len(Alphabet); i++ {
		t[Alphabet[i]] = true
	}
	return t
}()

// IsHashChar says whether c is a character of Alphabet.
func IsHashChar(c byte) bool { return isHashChar[c] }

// IsBase says whether base is a store path's base name: a hash of HashLen
// Alphabet characters, a dash and a non-empty name ("<hash>-hello-1.0").
// This is the one rule for what is a store path; Of, Split and every
// package that lists an image's store paths use it.
func IsBase(base string) bool {
	if len(base) < HashLen+2 || base[HashLen] != '-' {
		return false
	}
	for i := 0; i < HashLen; i++ {
		if !isHashChar[base[i]] {
			return false
		}
	}
	return true
}

// Split splits an absolute, clean path below the store into the base name
// of the store path it lies in and the path below that: for
// "/nix/store/<hash>-x/bin/x" it is "<hash>-x" and "bin/x"; for the store
// path itself rel is "". base is "" when p is in no store path (outside
// the store, the store directory itself, or a name such as
// /nix/store/.links that is not a store path). It allocates nothing.
func Split(p string) (base, rel string) {
	rest, ok := strings.CutPrefix(p, Dir+"/")
	if !ok {
		return "", ""
	}
	base, rel, _ = strings.Cut(rest, "/")
	if !IsBase(base) {
		return "", ""
	}
	return base, rel
}

// Of returns the store path ("/nix/store/<hash>-<name>") that p lies in, or
// "" when p is not in the store. p may be absolute or an archive member name
// ("nix/store/...", "./nix/store/...").
func Of(p string) string {
	p0 := p
	p = strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
	rest, ok := strings.CutPrefix(p, "nix/store/")
	if !ok {
		return ""
	}
	top, _, _ := strings.Cut(rest, "/")
	if !IsBase(top) {
		return ""
	}
	// An absolute p holds the answer: share its bytes (lint calls this for
	// every entry of images of millions of files).
	if n := len(Dir) + 1 + len(top); strings.HasPrefix(p0, Dir+"/") && len(p0) >= n {
		return p0[:n]
	}
	return Dir + "/" + top
}

// Hash returns the hash of a store path ("<hash>" of
// "/nix/store/<hash>-x", or of the base name "<hash>-x"), "" when p's base
// name is not a store path's.
func Hash(p string) string {
	base := path.Base(p)
	if !IsBase(base) {
		return ""
	}
	return base[:HashLen]
}

// Name returns the part of a store path's base name after its hash
// ("hello-2.12.1"), or the base name when it is no store path's (IsBase).
func Name(p string) string {
	base := path.Base(p)
	if IsBase(base) {
		return base[HashLen+1:]
	}
	return base
}

// RootOf returns the root of the chroot store a file lies in: for
// "/tmp/storeB/nix/store/<hash>-x" it is "/tmp/storeB". It is "" for a file
// in the machine's own /nix/store or outside any store. p must be absolute.
func RootOf(p string) string {
	i := strings.Index(p, Dir+"/")
	if i <= 0 || Of(p[i:]) == "" {
		return ""
	}
	return path.Clean(p[:i])
}
