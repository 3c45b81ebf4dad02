package cli

import (
	"encoding/json"
	"fmt"

	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print nixdock's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info := version.Get()
			if asJSON {
				data, _ := json.Marshal(info)
				fmt.Fprintln(a.ui.Out, string(data))
				return nil
			}
			fmt.Fprintf(a.ui.Out, "nixdock %s\ncommit %s\n%s\n", info.Version, info.Commit, info.GoVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
