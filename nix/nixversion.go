package nix

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// nixVersion is what `nix --version` said.
type nixVersion struct {
	version string
	lix     bool // Lix numbers its versions 2.90 and up, with Nix 2.18's CLI
}

// atLeast reports whether v is major.minor or newer.
func (v nixVersion) atLeast(major, minor int) bool {
	parts := strings.SplitN(v.version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	// The minor part may run into a suffix, as in 2.33pre20250101.
	digits := parts[1]
	if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		digits = digits[:i]
	}
	min, err2 := strconv.Atoi(digits)
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > major || maj == major && min >= minor
}

// versionCache holds one `nix --version` per executable. It lives outside
// Nix because Nix is copied by value across packages (a sync.Once field
// would make each copy ask again, and go vet rejects copying one).
var versionCache struct {
	sync.Mutex
	m map[string]*versionEntry
}

type versionEntry struct {
	sync.Mutex
	v  nixVersion
	ok bool
}

// nixVersion asks `nix --version` once per resolved executable and
// remembers the answer. A failure is not remembered (it may be a cancelled
// context).
func (n *Runner) nixVersion(ctx context.Context) (nixVersion, error) {
	bin := n.Bin
	if bin == "" {
		bin = "nix"
	}
	key := bin
	if p, err := exec.LookPath(bin); err == nil {
		key = p
	}
	versionCache.Lock()
	if versionCache.m == nil {
		versionCache.m = map[string]*versionEntry{}
	}
	e, ok := versionCache.m[key]
	if !ok {
		e = &versionEntry{}
		versionCache.m[key] = e
	}
	versionCache.Unlock()
	e.Lock()
	defer e.Unlock()
	if !e.ok {
		v, err := n.runVersion(ctx)
		if err != nil {
			return nixVersion{}, err
		}
		e.v, e.ok = v, true
	}
	return e.v, nil
}

// pathInfoFormatArgs pins `nix path-info --json` to format 1 (full store
// paths as keys, hashes as strings) on Nix 2.33 and newer, which warn
// without --json-format and may change the default; older Nix (and Lix)
// do not know the flag, and format 1 is what they print.
func (n *Runner) pathInfoFormatArgs(ctx context.Context) ([]string, error) {
	v, err := n.nixVersion(ctx)
	if err != nil {
		return nil, err
	}
	if v.lix || !v.atLeast(2, 33) {
		return nil, nil
	}
	return []string{"--json-format", "1"}, nil
}
