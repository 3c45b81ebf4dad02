package cli

import (
	"github.com/nixdock/nixdock-action/sign"
	"github.com/spf13/cobra"
)

func init() { register(newKeygenCmd) }

func newKeygenCmd(a *app) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate a cosign key pair (PREFIX.key encrypted with COSIGN_PASSWORD, PREFIX.pub)",
		Long: `Generate an ECDSA P-256 key pair in cosign's format: PREFIX.key, encrypted
with the password in COSIGN_PASSWORD (the only place it is read from), and
PREFIX.pub. The stock cosign CLI reads both.`,
		Example: `  COSIGN_PASSWORD=... nixdock keygen --output-key-prefix cosign`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pw, err := sign.Password()
			if err != nil {
				return failure(err)
			}
			files, err := sign.GenerateKeys(prefix, pw)
			if err != nil {
				return failure(err)
			}
			a.ui.Infof("private key written to %s\npublic key written to %s", files.Private, files.Public)
			return a.printResult(files.Public)
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "write PREFIX.key and PREFIX.pub")
	return cmd
}
