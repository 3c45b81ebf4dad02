package cli

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/spf13/cobra"
)

func init() { register(newRegistryCmd) }

func newRegistryCmd(a *app) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Serve an in-memory registry in the foreground (for demos and tests)",
		Long: `Serve go-containerregistry's in-process registry on ADDR until interrupted,
and print its address (host:port) on stdout. Images live in memory only.
Loopback registries are reached over plain HTTP without --insecure.`,
		Example: `  nixdock registry --addr 127.0.0.1:5001 &
  nixdock push result 127.0.0.1:5001/hello:latest`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return failure(fmt.Errorf("listening on %s: %w", addr, err))
			}
			srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
			fmt.Fprintln(a.ui.Out, ln.Addr().String())
			a.ui.Infof("registry: serving on %s (in memory; interrupt to stop)", ln.Addr())
			go func() {
				<-cmd.Context().Done()
				srv.Close()
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return failure(fmt.Errorf("serving registry: %w", err))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	return cmd
}
