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

// TestRunErrors: Run classifies what ends a run (a bad input value is
// ErrUsage naming its input; a run that cannot find its records is a
// plain failure) and writes the summary and an annotation either way.
func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Inputs
		usage string // the input named, "" for a failure that is not ErrUsage
		want  string
	}{
		{"bad mode", Inputs{Mode: "bogus"}, InputMode, `input mode: "bogus" is not a mode`},
		{"bad compression", Inputs{Mode: ModeBuild, File: "x.nix", Compression: "lz4"}, InputCompression, "input compression:"},
		{"no records", Inputs{Mode: ModeVerify, MinBuilders: 2}, "", "input records: no build records found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRunnerFiles(t)
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
			if got := errors.Is(err, ErrUsage); got != (tc.usage != "") {
				t.Errorf("errors.Is(ErrUsage) = %v", got)
			}
			if tc.usage != "" && (!errors.As(err, &ie) || ie.Input != tc.usage) {
				t.Errorf("err %v should be an *InputError naming %s", err, tc.usage)
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
