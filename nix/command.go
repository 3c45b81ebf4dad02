package nix

import (
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
)

// Command is one call of a Nix executable: Args[0] is the executable, the
// rest its arguments. Errors, reports and hints show its String, so the
// command a person reads is the one nixdock ran (or would run), every
// --store and --option included.
type Command struct {
	Args []string
}

// String is the command shell-quoted, so it can be pasted (an empty
// --option value shows as ”).
func (c Command) String() string { return escape.ShellJoin(c.Args) }

// command is bin (the nix executable when empty) with argv.
func (n *Runner) command(bin string, argv []string) Command {
	if bin == "" {
		bin = n.Bin
	}
	if bin == "" {
		bin = "nix"
	}
	return Command{Args: append([]string{bin}, argv...)}
}

// storeBin is the nix-store executable next to n.Bin.
func (n *Runner) storeBin() string {
	if n.Bin == "" {
		return "nix-store"
	}
	return strings.TrimSuffix(n.Bin, "nix") + "nix-store"
}

// CheckCommand is the command Check runs for drv: nix-store rebuilds it and
// compares with the output already in the store. nix-store takes the same
// --store and --option flags, but not --extra-experimental-features.
func (n *Runner) CheckCommand(drv string) Command {
	return n.command(n.storeBin(), append(n.storeArgs(), "--realise", "--check", drv))
}

// DeriverCommand asks the store for the derivation that produced
// storePath, for hints that rebuild a path whose .drv no record names.
func (n *Runner) DeriverCommand(storePath string) Command {
	return n.command(n.storeBin(), append(n.storeArgs(), "--query", "--deriver", storePath))
}
