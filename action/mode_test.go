package action

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testLog is a Log that keeps the lines for people.
type testLog struct{ lines []string }

func (l *testLog) Infof(format string, args ...any)    { l.lines = append(l.lines, format) }
func (l *testLog) Progress(format string, args ...any) {}
func (l *testLog) Writer() io.Writer                   { return io.Discard }

// TestRunErrors: Run classifies what ends a run. A bad input value is an
// *InputError naming its input, a plain failure (exit 3, as ParseInputs'
// errors); a runner environment nixdock cannot work with is ErrUsage
// (exit 2); a run that cannot find its records is a plain failure. The
// summary and an annotation are written either way.
func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Inputs
		env   map[string]string
		input string // the input named, "" for an error that is no *InputError
		usage bool   // ErrUsage
		want  string
	}{
		{"bad mode", Inputs{Mode: "bogus"}, nil, InputMode, false, `input mode: "bogus" is not a mode`},
		{"bad compression", Inputs{Mode: ModeBuild, File: "x.nix", Compression: "lz4"}, nil, InputCompression, false, "input compression:"},
		{"signed records, no builder workflow", Inputs{Mode: ModeVerify, MinBuilders: 2, RequireSigned: true}, nil, InputRequireSigned, false, "no builder workflow"},
		{"bad builder workflow", Inputs{Mode: ModeVerify, MinBuilders: 2}, map[string]string{EnvBuilderWorkflow: "bogus"}, "", true, EnvBuilderWorkflow + ` "bogus" is not`},
		{"builder workflow at a tag", Inputs{Mode: ModeVerify, MinBuilders: 2}, map[string]string{EnvBuilderWorkflow: "o/r/.github/workflows/b.yml@refs/tags/v1"}, "", true, "FILE@COMMIT"},
		{"builder workflow, no run", Inputs{Mode: ModeVerify, MinBuilders: 2}, map[string]string{EnvBuilderWorkflow: "o/r/.github/workflows/b.yml@" + strings.Repeat("a", 40), "GITHUB_RUN_ID": ""}, "", true, "GITHUB_RUN_ID"},
		{"bad signer ref", Inputs{Mode: ModePublish, MinBuilders: 2, Image: "example.com/x"}, map[string]string{EnvSignerWorkflowRef: "bogus"}, "", true, EnvSignerWorkflowRef + ` "bogus" is not`},
		{"no records", Inputs{Mode: ModeVerify, MinBuilders: 2}, nil, "", false, "input records: no build records found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRunnerFiles(t)
			for k, v := range tc.env {
				f.env[k] = v
			}
			in := tc.in
			in.Records = filepath.Join(f.dir, "none")
			if err := os.MkdirAll(in.Records, 0o755); err != nil {
				t.Fatal(err)
			}
			err := Run(context.Background(), Request{Inputs: &in, Runner: f.runner, Log: &testLog{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			var ie *InputError
			if got := errors.Is(err, ErrUsage); got != tc.usage {
				t.Errorf("errors.Is(ErrUsage) = %v", got)
			}
			if isInput := errors.As(err, &ie); isInput != (tc.input != "") || (isInput && ie.Input != tc.input) {
				t.Errorf("err %v: *InputError %v, want one naming %q", err, ie, tc.input)
			}
			if errors.Is(err, ErrDiffers) {
				t.Errorf("a failure is not ErrDiffers")
			}
			if sum := f.read(t, "summary"); !strings.Contains(sum, "failed") {
				t.Errorf("summary should say the run failed:\n%s", sum)
			}
			if !strings.Contains(f.stdout.String(), "::error") {
				t.Errorf("no error annotation:\n%s", f.stdout.String())
			}
		})
	}
}
