// Package childenv builds the environment of the programs nixdock runs
// (Nix, stream scripts, disorderfs) without the secrets of its own: Action
// inputs (the GitHub token and the cosign password arrive as INPUT_*),
// tokens, passwords, the OIDC request variables and cosign's variables.
// Impure evaluation can read any variable Nix sees (builtins.getEnv), and
// what it reads can end up in the image and the record; a variable passes
// only when the user names it (--nix-env). HideOwn keeps the same secrets
// in nixdock's own environment out of reach of those programs through
// /proc.
package childenv
