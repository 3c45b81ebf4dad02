package cli

import (
	"context"
	"errors"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/action"
	"github.com/spf13/cobra"
)

func init() { register(newActionCmd) }

func newActionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "action",
		Short: "Run as the GitHub Action: read INPUT_* variables, write outputs, summary and annotations",
		Long: `Run one mode of the nixdock GitHub Action (action.yml runs this). The inputs
come from INPUT_<NAME> variables (INPUT_MODE, INPUT_INSTALLABLE,
INPUT_NIX-OPTIONS, ...); outputs go to $GITHUB_OUTPUT, the report to
$GITHUB_STEP_SUMMARY, annotations and log groups to stdout. Each mode calls
the library functions the matching command calls (reproduce, build, verify,
push and sign).
See docs/action.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runAction(cmd.Context())
		},
	}
}

// publishImage, when set (by tests), wraps the image the publish mode
// opened, to count how often its layers are read.
var publishImage func(v1.Image) v1.Image

// runAction parses the inputs into an action.Request and runs it
// (action.Run); the modes' orchestration lives in package action. Errors
// become exit codes: differences 1, a runner environment nixdock cannot
// work with 2, else 3 (a bad input value too).
func (a *app) runAction(ctx context.Context) error {
	r, err := action.NewRunner(a.ui.Cmd, os.Getenv)
	if err != nil {
		return usageError("%s", err)
	}
	// Secrets first: nothing may be logged before they are masked.
	r.MaskSecrets()
	in, err := action.ParseInputs(os.Getenv)
	if err != nil {
		r.Error(action.Annotation{Title: "nixdock: bad input", Message: err.Error()})
		return failure(err)
	}
	a.ui.Actions = true
	err = action.Run(ctx, action.Request{Inputs: in, Runner: r, Log: actionLog{a.ui}, WrapPublished: publishImage})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, action.ErrDiffers):
		return errDiffers
	case errors.Is(err, action.ErrUsage):
		return &exitError{code: ExitUsage, err: err}
	}
	return failure(err)
}

// actionLog is the UI as the Action's log (action.Log).
type actionLog struct{ *UI }

func (l actionLog) Writer() io.Writer { return l.logWriter() }
