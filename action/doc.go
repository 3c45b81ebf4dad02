// Package action is the GitHub Actions runner contract of nixdock: it reads
// the Action's inputs from the INPUT_* variables the runner (or action.yml's
// env: mapping) sets, validates them with errors that name the input, and
// writes what the runner reads back: step outputs (GITHUB_OUTPUT), exported
// variables (GITHUB_ENV), the job summary (GITHUB_STEP_SUMMARY) and
// workflow commands on stdout (masks, log groups, error annotations).
//
// Run (mode*.go) is the Action's orchestration: each mode fills the
// libraries' typed options from Inputs and calls them directly (build.Run,
// reproduce.Run, verify.Records, sbom.FromRecord, lint.RunImage,
// publish.Run), and reports through a Runner. `nixdock action`
// (internal/cli) only parses the inputs into a Request and turns Run's
// error into an exit code. The Markdown summary and the annotations are
// rendered from plain data (Summary, Culprit).
//
// It wraps github.com/sethvargo/go-githubactions, which reads an input NAME
// from INPUT_ + strings.ToUpper(NAME) with spaces replaced by underscores and
// dashes kept: input nix-options is INPUT_NIX-OPTIONS. action.yml maps
// every input to exactly that name through env:.
package action
