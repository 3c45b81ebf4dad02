package reproduce

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nixdock/nixdock-action/internal/childenv"
	"github.com/nixdock/nixdock-action/nix"
)

// Variation is one thing the two builds deliberately do differently.
type Variation struct {
	Name string `json:"name"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// side is one of the two builds: its store, its Nix options and how it is
// run.
type side struct {
	label   string // "A" or "B"
	store   string
	options []nix.Option
	passEnv []string // variables Nix gets although they look like secrets
	tmpDir  string   // TMPDIR for Nix (where build directories are made)
	vary    map[string]string
}

// nix is the Nix runner of side s, logging to log.
func (s *side) nix(log io.Writer) nix.Runner {
	nix := nix.Runner{Store: s.store, Options: s.options, Log: log, PassEnv: s.passEnv}
	if s.tmpDir != "" {
		nix.Env = []string{"TMPDIR=" + s.tmpDir}
	}
	return nix
}

// plan decides the two sides' stores and variations.
func plan(opts Options, work string) ([2]*side, []Variation) {
	a := &side{label: "A", store: opts.StoreA, vary: map[string]string{}}
	b := &side{label: "B", store: opts.StoreB, vary: map[string]string{}}
	if a.store == "" {
		a.store = filepath.Join(work, "store-a")
	}
	if b.store == "" {
		b.store = filepath.Join(work, "store-b")
	}
	a.tmpDir, b.tmpDir = filepath.Join(work, "tmp-a"), filepath.Join(work, "tmp-b")
	base := append([]nix.Option{{Name: "sandbox", Value: "true"}}, opts.NixOptions...)
	a.options = append([]nix.Option{}, base...)
	b.options = append([]nix.Option{}, base...)
	a.passEnv, b.passEnv = opts.NixEnv, opts.NixEnv
	var vars []Variation
	add := func(name, va, vb string) {
		a.options = append(a.options, nix.Option{Name: name, Value: va})
		b.options = append(b.options, nix.Option{Name: name, Value: vb})
		a.vary[name], b.vary[name] = va, vb
		vars = append(vars, Variation{Name: name, A: va, B: vb})
	}
	if !opts.NoVaryCores {
		add("cores", "1", strconv.Itoa(max(2, runtime.NumCPU())))
	}
	if opts.VaryBuildDir {
		add("sandbox-build-dir", "/build", "/build-nixdock-b-reproduce")
	}
	return [2]*side{a, b}, vars
}

// mountShuffled mounts disorderfs over a fresh directory and returns the
// mount point (to use as TMPDIR for one build, so that the build directory
// lists its entries in a shuffled order) and the function that unmounts it.
func mountShuffled(ctx context.Context, work string) (string, func(), error) {
	if _, err := exec.LookPath("disorderfs"); err != nil {
		return "", nil, fmt.Errorf("shuffling directory order needs Debian's disorderfs (apt-get install disorderfs fuse3)")
	}
	backing := filepath.Join(work, "shuffled-backing")
	mnt := filepath.Join(work, "shuffled")
	for _, d := range []string{backing, mnt} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", nil, err
		}
	}
	// The sandboxed builder runs as a Nix build user: allow_other lets it
	// reach the mount, multi-user makes disorderfs act as the caller, and
	// default_permissions has the kernel check modes (without it, the build
	// user is refused its own build directory).
	cmd := exec.CommandContext(ctx, "disorderfs", "--shuffle-dirents=yes", "--multi-user=yes",
		"-o", "allow_other,default_permissions", backing, mnt)
	cmd.Env = childenv.Environ(nil)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("mounting disorderfs on %s: %v: %s", mnt, err, out)
	}
	unmount := func() {
		for i := 0; i < 10; i++ {
			if exec.Command("fusermount3", "-u", mnt).Run() == nil || exec.Command("fusermount", "-u", mnt).Run() == nil || exec.Command("umount", mnt).Run() == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return mnt, unmount, nil
}

// removeStore deletes a chroot store; Nix makes store files read-only.
func removeStore(dir string) error {
	_ = exec.Command("chmod", "-R", "u+w", dir).Run()
	return os.RemoveAll(dir)
}

// storeHint explains a failure to use a chroot store, which needs a mount
// namespace: root, or unprivileged user namespaces. Elsewhere the
// two-runner workflow proves the same thing without chroot stores.
func storeHint(err error) string {
	msg := err.Error()
	for _, sign := range []string{"namespace", "Operation not permitted", "unshare"} {
		if strings.Contains(msg, sign) {
			return "\n(chroot stores need a mount namespace: run as root, or allow unprivileged user namespaces " +
				"(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0); " +
				"where neither is possible, build on two runners and compare with nixdock verify: see docs/reproduce.md)"
		}
	}
	return ""
}
