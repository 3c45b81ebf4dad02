package nix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/nixdock/nixdock-action/internal/childenv"
	"github.com/nixdock/nixdock-action/record"
)

// Option is one --option NAME VALUE passed to every Nix call. An empty
// value is allowed (substituters= turns substitution off).
type Option struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParseOption parses NAME=VALUE as given to --nix-option.
func ParseOption(s string) (Option, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return Option{}, fmt.Errorf("%q: want NAME=VALUE (VALUE may be empty)", s)
	}
	return Option{Name: name, Value: value}, nil
}

// Runner runs the nix CLI with a store and options.
type Runner struct {
	// Store is a Nix store URL, such as a chroot store "/tmp/storeB" or
	// "local?root=/tmp/storeB"; empty is the machine's store.
	Store string
	// Options are passed as --option NAME VALUE to every call.
	Options []Option
	// Log receives Nix's own log (build output, progress). Nil discards it.
	Log io.Writer
	// Bin is the nix executable; empty means "nix" on PATH.
	Bin string
	// Env is added to Nix's environment (NAME=VALUE), such as TMPDIR for
	// where build directories are made.
	Env []string
	// PassEnv names variables of this process that Nix gets although they
	// look like secrets (childenv.Secret); all others are left out of its
	// environment, since impure evaluation can read them.
	PassEnv []string
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// baseArgs are the arguments every nix call takes: the experimental features
// nixdock relies on, the store and the user's options.
func (n *Runner) baseArgs() []string {
	return append([]string{"--extra-experimental-features", "nix-command flakes"}, n.storeArgs()...)
}

// storeArgs are the store and the user's options, which nix-store and
// nix-build take too.
func (n *Runner) storeArgs() []string {
	var args []string
	if n.Store != "" {
		args = append(args, "--store", n.Store)
	}
	for _, o := range n.Options {
		args = append(args, "--option", o.Name, o.Value)
	}
	return args
}

// run runs `nix SUBCOMMAND... ARGS` and returns its stdout. Stderr goes to
// n.Log and is kept for the error message.
func (n *Runner) run(ctx context.Context, sub []string, args ...string) ([]byte, error) {
	return n.exec(ctx, n.command("", append(append(append([]string{}, sub...), n.baseArgs()...), args...)))
}

// exec runs c and returns its stdout. Stderr goes to n.Log and is kept for
// the error message.
func (n *Runner) exec(ctx context.Context, c Command) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	// Cancelled (an interrupt), Nix gets SIGTERM, on which it stops its
	// builders and removes its build directories; SIGKILL only if it has
	// not exited within WaitDelay.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Env = append(childenv.Environ(n.PassEnv), n.Env...)
	var stdout bytes.Buffer
	tail := &tailBuffer{max: 64 << 10}
	cmd.Stdout = &stdout
	if n.Log != nil {
		cmd.Stderr = io.MultiWriter(n.Log, tail)
	} else {
		cmd.Stderr = tail
	}
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("nix is not installed or not on PATH: install Nix (on Debian: apt-get install nix-bin) and retry")
		}
		return nil, &Error{Command: c, Stderr: tail.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

var versionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)?\S*`)

// Version is the Nix version, such as "2.8.0". It runs `nix --version` once
// per nix executable in this process (see nixVersion).
func (n *Runner) Version(ctx context.Context) (string, error) {
	v, err := n.nixVersion(ctx)
	return v.version, err
}

// runVersion runs `nix --version`. The version is the last one on the first
// line: "nix (Nix) 2.8.0", "nix (Determinate Nix 3.8.5) 2.30.2",
// "nix (Lix, like Nix) 2.91.1".
func (n *Runner) runVersion(ctx context.Context) (nixVersion, error) {
	out, err := n.run(ctx, []string{"--version"})
	if err != nil {
		return nixVersion{}, err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	all := versionRE.FindAllString(first, -1)
	if len(all) == 0 {
		return nixVersion{}, fmt.Errorf("nix --version printed %q: no version in it", strings.TrimSpace(string(out)))
	}
	return nixVersion{version: all[len(all)-1], lix: strings.Contains(first, "Lix")}, nil
}

// System is the Nix system double, such as "x86_64-linux".
func (n *Runner) System(ctx context.Context) (string, error) {
	out, err := n.run(ctx, []string{"eval"}, "--impure", "--raw", "--expr", "builtins.currentSystem")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// BuildResult is what `nix build --json` reports for an installable.
type BuildResult struct {
	DrvPath string
	OutPath string
}

// Build builds the installable and returns its derivation and out path.
// Extra arguments (such as --rebuild or --option cores 1) go after the
// installable's own.
func (n *Runner) Build(ctx context.Context, inst record.Installable, extra ...string) (BuildResult, error) {
	if err := inst.Validate(); err != nil {
		return BuildResult{}, err
	}
	args := append([]string{"--json", "--no-link", "-L"}, extra...)
	out, err := n.run(ctx, []string{"build"}, append(args, inst.Args()...)...)
	if err != nil {
		return BuildResult{}, err
	}
	return parseBuildJSON(out)
}

// parseBuildJSON reads `nix build --json`: a list of {drvPath, outputs}. Nix
// 2.8 and 2.18+ agree on this shape.
func parseBuildJSON(data []byte) (BuildResult, error) {
	var results []struct {
		DrvPath string            `json:"drvPath"`
		Outputs map[string]string `json:"outputs"`
	}
	if err := json.Unmarshal(data, &results); err != nil {
		return BuildResult{}, fmt.Errorf("reading nix build --json output: %w", err)
	}
	if len(results) != 1 {
		return BuildResult{}, fmt.Errorf("nix build returned %d results, want 1: name one image", len(results))
	}
	r := results[0]
	out := r.Outputs["out"]
	if out == "" {
		for _, p := range r.Outputs {
			out = p
			break
		}
	}
	if out == "" {
		return BuildResult{}, fmt.Errorf("nix build of %s reported no output path", r.DrvPath)
	}
	return BuildResult{DrvPath: r.DrvPath, OutPath: out}, nil
}

// PathInfo returns the closure of paths (recursive) or the paths alone.
func (n *Runner) PathInfo(ctx context.Context, recursive bool, paths ...string) ([]record.PathInfo, error) {
	args := []string{"--json"}
	format, err := n.pathInfoFormatArgs(ctx)
	if err != nil {
		return nil, err
	}
	args = append(args, format...)
	if recursive {
		args = append(args, "--recursive")
	}
	out, err := n.run(ctx, []string{"path-info"}, append(args, paths...)...)
	if err != nil {
		return nil, err
	}
	return ParsePathInfo(out)
}

// Derivations returns the derivation of drv and, with recursive, of every
// derivation it depends on, keyed by .drv path.
func (n *Runner) Derivations(ctx context.Context, recursive bool, drv string) (map[string]record.Derivation, error) {
	args := []string{}
	if recursive {
		args = append(args, "--recursive")
	}
	// `nix derivation show` is the name since Nix 2.15; `nix show-derivation`
	// the only one before.
	out, err := n.run(ctx, []string{"show-derivation"}, append(args, drv)...)
	if err != nil {
		var nerr *Error
		if errors.As(err, &nerr) && strings.Contains(nerr.Stderr, "show-derivation") {
			out, err = n.run(ctx, []string{"derivation", "show"}, append(args, drv)...)
		}
		if err != nil {
			return nil, err
		}
	}
	return ParseDerivations(out)
}

// RealPath is where a store path's bytes are on this machine: under the
// chroot root for a store such as /tmp/storeB or local?root=/tmp/storeB.
func (n *Runner) RealPath(storePath string) string {
	root := StoreRoot(n.Store)
	if root == "" {
		return storePath
	}
	return filepath.Join(root, storePath)
}

// StoreRoot is the chroot directory of a local store URL, or "" for the
// machine's store (or a remote store). Records own the rule (a build's key
// names its store root); this is the same function for Nix's callers.
func StoreRoot(store string) string { return record.StoreRoot(store) }

// Available reports whether the nix executable is on PATH.
func Available() bool {
	_, err := exec.LookPath("nix")
	return err == nil
}

// Exists reports whether a file exists at path.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
