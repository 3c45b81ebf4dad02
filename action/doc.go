// Package action is the GitHub Actions runner contract of nixdock: it reads
// the Action's inputs from the INPUT_* variables the runner (or action.yml's
// env: mapping) sets, validates them with errors that name the input, and
// writes what the runner reads back: step outputs (GITHUB_OUTPUT), exported
// variables (GITHUB_ENV), the job summary (GITHUB_STEP_SUMMARY) and
// workflow commands on stdout (masks, log groups, error annotations).
//
// It does not build or compare anything itself: `nixdock action`
// (internal/cli/action.go) fills the option structs of the CLI commands from
// Inputs and renders their results through a Runner, so the Action and the
// CLI share one code path. The Markdown summary and the annotations are
// rendered from plain data (Summary, Culprit) so this package depends on no
// other nixdock package.
//
// It wraps github.com/sethvargo/go-githubactions, which reads an input NAME
// from INPUT_ + strings.ToUpper(NAME) with spaces replaced by underscores and
// dashes kept: input nix-options is INPUT_NIX-OPTIONS. action.yml maps
// every input to exactly that name through env:.
package action
