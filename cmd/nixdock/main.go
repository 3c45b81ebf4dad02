// Command nixdock proves a Nix-built container image is reproducible and
// publishes it signed, with an SBOM of its Nix closure.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/nixdock/nixdock-action/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
