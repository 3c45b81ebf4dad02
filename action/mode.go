package action

// The Action's orchestration: each mode fills the libraries' typed options
// from the inputs and calls them directly (build.Run, reproduce.Run,
// verify.Records, sbom.FromRecord, lint.RunImage, publish.Run), never a
// command line; `nixdock action` (internal/cli) only parses the inputs
// into a Request and turns the error into an exit code.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/lint"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
)

// ErrDiffers ends a run that completed and found differences (or lint
// findings with lint-fail): the step fails with exit code 1, and the
// summary and annotations say why.
var ErrDiffers = errors.New("differences found")

// ErrUsage marks a run that could not start because the runner's
// environment is not what nixdock works with (exit code 2). A bad input
// value is an *InputError instead, a plain failure (exit code 3), the same
// whether ParseInputs or a mode finds it.
var ErrUsage = errors.New("bad usage")

type usageError struct{ err error }

func (e usageError) Error() string        { return e.err.Error() }
func (e usageError) Unwrap() error        { return e.err }
func (e usageError) Is(target error) bool { return target == ErrUsage }

// usage marks err as ErrUsage.
func usage(err error) error { return usageError{err} }

// Log is where a run's messages for people go (the step's log).
type Log interface {
	// Infof prints a line for people.
	Infof(format string, args ...any)
	// Progress shows a step of long work.
	Progress(format string, args ...any)
	// Writer is where Nix's and other tools' own logs go.
	Writer() io.Writer
}

// Request is one run of the Action: its inputs, already parsed, and the
// runner it reports through.
type Request struct {
	Inputs *Inputs
	Runner *Runner
	Log    Log
	// WrapPublished, when set, wraps the image the publish mode opened
	// (tests count how often its layers are read).
	WrapPublished func(v1.Image) v1.Image
}

// run is one run of the Action: the request and the summary the mode
// fills in.
type run struct {
	req Request
	in  *Inputs
	r   *Runner
	log Log
	sum Summary
	// file is where culprit annotations point (the image's Nix file).
	file string
	// lint is the image's lint result, when an image was at hand.
	lint *lint.Result
	// identities are the verified signers of the records readRecords
	// read, in order (the zero Identity unsigned); nil when not checked.
	identities []recsig.Identity
}

// Run runs the mode the inputs name, then writes the summary (also after
// a failure, saying what failed). The error is ErrDiffers when the run
// found differences, ErrUsage for a runner environment it cannot work
// with, else what failed (an *InputError for a bad input value). Only the
// modes that run Nix work in working-directory; verify and publish jobs
// need no checkout, and use it only to place annotations.
func Run(ctx context.Context, req Request) error {
	x := &run{req: req, in: req.Inputs, r: req.Runner, log: req.Log,
		sum: Summary{Mode: req.Inputs.Mode, Files: map[string]string{}}}
	x.file = x.in.ManifestFile(x.r.Workspace())
	if x.in.WorkingDirectory != "" && (x.in.Mode == ModeBuild || x.in.Mode == ModeReproduce) {
		restore, err := chdir(x.in.WorkingDirectory)
		if err != nil {
			x.r.Error(Annotation{Title: "nixdock: bad input", Message: err.Error()})
			return err
		}
		defer restore()
	}
	err := x.run(ctx)
	if err == nil {
		err = x.lintVerdict()
	}
	return x.finish(err)
}

func (x *run) run(ctx context.Context) error {
	switch x.in.Mode {
	case ModeBuild:
		return x.build(ctx)
	case ModeVerify:
		return x.verify(ctx)
	case ModeReproduce:
		return x.reproduce(ctx)
	case ModePublish:
		return x.publish(ctx)
	}
	return inputErr(InputMode, "%q is not a mode", x.in.Mode)
}

// finish writes the summary (also after a failure, saying what failed) and
// annotates a failure, then returns err.
func (x *run) finish(err error) error {
	if err != nil && !errors.Is(err, ErrDiffers) {
		x.sum.Verdict = VerdictFailed
		x.sum.Error = err.Error()
		x.r.Error(Annotation{File: x.file, Title: fmt.Sprintf("nixdock %s failed", x.in.Mode), Message: err.Error()})
	}
	if serr := x.r.AddSummary(x.sum.Markdown()); serr != nil && err == nil {
		return serr
	}
	return err
}

func chdir(dir string) (func(), error) {
	old, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("input working-directory: %w", err)
	}
	if err := os.Chdir(dir); err != nil {
		return nil, fmt.Errorf("input working-directory: %w", err)
	}
	return func() { _ = os.Chdir(old) }, nil
}

// nixInputs are the installable and the Nix options the inputs name, as
// the library's values; a bad value is an error naming its input.
func (x *run) nixInputs() (record.Installable, []nix.Option, error) {
	in := x.in
	inst := record.Installable{Flake: in.Installable, File: in.File, Attr: in.Attr}
	for _, kv := range in.ArgStr {
		k, v, _ := strings.Cut(kv, "=") // ParseInputs checked NAME=VALUE
		if inst.ArgStr == nil {
			inst.ArgStr = map[string]string{}
		}
		inst.ArgStr[strings.TrimSpace(k)] = v
	}
	if err := inst.Validate(); err != nil {
		return inst, nil, inputErr(InputInstallable, "%s", err)
	}
	var opts []nix.Option
	for _, s := range in.NixOptions {
		o, err := nix.ParseOption(s)
		if err != nil {
			return inst, nil, inputErr(InputNixOptions, "%s", err)
		}
		opts = append(opts, o)
	}
	return inst, opts, nil
}

// setOutputs sets step outputs and exports them as NIXDOCK_* variables to
// the job's later steps; empty values are skipped.
func (x *run) setOutputs(kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if v == "" {
			continue
		}
		if err := x.r.SetOutput(k, v); err != nil {
			return err
		}
		if err := x.r.SetEnv(exportName(k), v); err != nil {
			return err
		}
	}
	return nil
}

// exportName is the NIXDOCK_* variable an output is exported as.
func exportName(output string) string {
	b := []byte("NIXDOCK_" + output)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c == '-':
			b[i] = '_'
		}
	}
	return string(b)
}

// freshDir is an empty directory under RUNNER_TEMP/nixdock, so that a
// re-run step never uploads a previous run's files.
func (x *run) freshDir(name string) (string, error) {
	dir, err := x.r.TempDir(name)
	if err != nil {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("cleaning %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// readRecords reads the records the records input names (by default the
// artifacts that action.yml downloaded) and checks there are enough.
func (x *run) readRecords(min int) ([]*record.Record, []string, error) {
	pattern := x.in.Records
	sigOpts, err := x.recordSigOptions()
	if err != nil {
		return nil, nil, err
	}
	if x.in.RequireSigned && sigOpts == nil {
		return nil, nil, inputErr(InputRequireSigned, "no builder workflow to check the records' signatures against: the job's environment has no %s", EnvBuilderWorkflow)
	}
	if pattern == "" {
		dir, err := x.r.TempDir("artifacts")
		if err != nil {
			return nil, nil, err
		}
		pattern = dir
	}
	files, err := FindRecords(pattern)
	if err != nil {
		return nil, nil, err
	}
	recs, ids, err := recsig.ReadRecords(files, sigOpts)
	if err != nil {
		return nil, nil, fmt.Errorf("input records: %w", err)
	}
	x.identities = ids
	if len(recs) < min {
		return nil, nil, fmt.Errorf("input min-builders: found %d build record(s) in %s, want at least %d independent builds",
			len(recs), pattern, min)
	}
	return recs, files, nil
}

// summarizeBuilders puts the records' installable and one row per builder
// in the summary.
func (x *run) summarizeBuilders(recs []*record.Record) {
	if len(recs) > 0 {
		x.sum.Installable = recs[0].Installable.String()
	}
	for _, rec := range recs {
		x.sum.Builders = append(x.sum.Builders, builderRow(rec))
	}
}

func builderRow(rec *record.Record) Builder {
	id := rec.Builder.ID
	if id == "" {
		id = rec.Builder.RunnerName
	}
	return Builder{
		ID: id, DrvPath: rec.DrvPath, ManifestDigest: rec.Image.ManifestDigest,
		ConfigDigest: rec.Image.ConfigDigest, Layers: len(rec.Image.Layers), Closure: len(rec.Closure),
	}
}

// recordFile is where annotations point in verify and publish, which have
// no installable input: the Nix file (or flake.nix) the record was built
// from, under working-directory.
func (x *run) recordFile(rec *record.Record) string {
	in := Inputs{File: rec.Installable.File, Installable: rec.Installable.Flake, WorkingDirectory: x.in.WorkingDirectory}
	return in.ManifestFile(x.r.Workspace())
}
