package nix

import (
	"context"
	"errors"
	"strings"
)

// CheckResult is Nix's own verdict on rebuilding a derivation.
type CheckResult struct {
	// Deterministic is true when Nix rebuilt the derivation and got the
	// same output bytes.
	Deterministic bool
	// Command is the command that ran (CheckCommand), shell-quoted, for
	// the report.
	Command string
	// Message is what Nix said when it found a difference.
	Message string
}

// Check rebuilds drv (which must already be built in the store) and compares
// the result with the existing output, as `nix-store --realise --check` does.
func (n *Runner) Check(ctx context.Context, drv string) (CheckResult, error) {
	c := n.CheckCommand(drv)
	cmd := c.String()
	_, err := n.exec(ctx, c)
	if err == nil {
		return CheckResult{Deterministic: true, Command: cmd}, nil
	}
	var nerr *Error
	if errors.As(err, &nerr) && strings.Contains(nerr.Stderr, "may not be deterministic") {
		return CheckResult{Deterministic: false, Command: cmd, Message: lastLines(nerr.Stderr, 1)}, nil
	}
	return CheckResult{Command: cmd}, err
}
