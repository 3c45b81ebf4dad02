package nix

import (
	"context"

	"github.com/nixdock/nixdock-action/record"
)

// EvalInstallable runs `nix eval --json EXTRA... INSTALLABLE` with the
// store and options, selecting the installable exactly as Build does (so
// drvPaths agree), and returns Nix's JSON. EXTRA carries flags such as
// --apply EXPR.
func (n *Runner) EvalInstallable(ctx context.Context, inst record.Installable, extra ...string) ([]byte, error) {
	if err := inst.Validate(); err != nil {
		return nil, err
	}
	args := append(append([]string{"--json"}, extra...), inst.Args()...)
	return n.run(ctx, []string{"eval"}, args...)
}
