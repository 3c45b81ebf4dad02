package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in docs/cli.md.
const (
	ExitOK      = 0
	ExitDiffers = 1
	ExitUsage   = 2
	ExitFailure = 3
	// ExitInterrupted is the exit code after SIGINT (128+2, the shell's
	// convention); after SIGTERM it is 143 (128+15).
	ExitInterrupted = 130
)

// Interrupted is the cause of a context that a signal cancelled (see
// cmd/nixdock): Main then says "interrupted" and exits 128+signal.
type Interrupted struct{ Signal os.Signal }

func (i Interrupted) Error() string { return "interrupted by " + i.Signal.String() }

// exitCode is 128+signal for a signal nixdock stops on.
func (i Interrupted) exitCode() int {
	if s, ok := i.Signal.(syscall.Signal); ok && s > 0 && s < 128 {
		return 128 + int(s)
	}
	return ExitInterrupted
}

// interrupted is the Interrupted cause of ctx, if a signal cancelled it.
func interrupted(ctx context.Context) (Interrupted, bool) {
	var in Interrupted
	if ctx.Err() == nil {
		return in, false
	}
	ok := errors.As(context.Cause(ctx), &in)
	return in, ok
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks a mistake in the command line (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// differs is returned by commands that completed and found differences or
// findings (exit 1). The report has been written already.
var errDiffers = &exitError{code: ExitDiffers, err: errors.New("differences found")}

// app is what every command shares: the output streams and global flags.
type app struct {
	ui *UI
}

// command constructors register themselves here (one file per command), so
// that adding a command does not touch the root.
var commands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { commands = append(commands, f) }

// Main runs nixdock with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{ui: NewUI(stdout, stderr)}
	root := newRoot(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if in, ok := interrupted(ctx); ok && err != nil {
		// Whatever failed (a killed Nix, a cancelled copy) failed because
		// of the signal: one line, not the child's error.
		a.ui.Errorf("interrupted")
		return in.exitCode()
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code != ExitDiffers {
			a.ui.Errorf("%s", ee.err)
		}
		return ee.code
	}
	// cobra's own errors (unknown flag, wrong argument count) are usage
	// errors; ours are failures.
	if isCobraUsage(err) {
		help := "nixdock --help"
		if sub := subcommandOf(args); len(sub) > 0 && !strings.Contains(err.Error(), "unknown command") {
			help = "nixdock " + strings.Join(sub, " ") + " --help"
		}
		a.ui.Errorf("%s (see %s)", err, help)
		return ExitUsage
	}
	a.ui.Errorf("%s", err)
	return ExitFailure
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "nixdock",
		Short: "Prove a Nix-built container image is reproducible, then publish it signed with an SBOM",
		Long: `nixdock builds a Nix container image, proves that independent builds produce
the same bytes (and explains why when they do not), and publishes it signed
with cosign, with an SBOM of its Nix closure and attestations of the builds.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	cmds := make([]*cobra.Command, 0, len(commands))
	for _, f := range commands {
		cmds = append(cmds, f(a))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError("%s", err)
	})
	return root
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "accepts ", "requires at least", "requires exactly", "arg(s)", "flag needs an argument", "unknown shorthand"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func subcommandOf(args []string) []string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return []string{a}
		}
	}
	return nil
}

// failure wraps err as an exit-3 failure with context.
func failure(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: ExitFailure, err: err}
}
