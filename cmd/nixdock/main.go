// Command nixdock proves a Nix-built container image is reproducible and
// publishes it signed, with an SBOM of its Nix closure.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nixdock/nixdock-action/internal/childenv"
	"github.com/nixdock/nixdock-action/internal/cli"
)

func main() {
	// Other processes of the user (an impure Nix evaluation nixdock runs)
	// must not read the tokens and passwords in its environment from /proc.
	if err := childenv.HideOwn(); err != nil {
		fmt.Fprintf(os.Stderr, "nixdock: warning: cannot hide its environment from other processes of the user: %v\n", err)
	}
	// The first SIGINT or SIGTERM cancels the context with the signal as
	// its cause, so that the command stops, removes its temporary files and
	// exits 128+signal saying "interrupted"; a second one kills at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		signal.Stop(sigs)
		cancel(cli.Interrupted{Signal: s})
	}()
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(code)
}
