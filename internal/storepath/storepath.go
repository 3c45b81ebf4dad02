package storepath

import (
	"path"
	"strings"
)

// Dir is the Nix store directory.
const Dir = "/nix/store"

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
	// A store path's base name is a 32-character hash, a dash and a name.
	if len(top) < 34 || top[32] != '-' {
		return ""
	}
	// An absolute p holds the answer: share its bytes (lint calls this for
	// every entry of images of millions of files).
	if n := len(Dir) + 1 + len(top); strings.HasPrefix(p0, Dir+"/") && len(p0) >= n {
		return p0[:n]
	}
	return Dir + "/" + top
}

// Name returns the part of a store path's base name after its hash
// ("hello-2.12.1"), or the base name when it has no hash.
func Name(p string) string {
	base := path.Base(p)
	if len(base) > 33 && base[32] == '-' {
		return base[33:]
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
