package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/nixdock/nixdock-action/action"
	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/lint"
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
$GITHUB_STEP_SUMMARY, annotations and log groups to stdout. Each mode runs
the code of the matching command (reproduce, build, verify, push and sign).
See docs/action.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runAction(cmd.Context())
		},
	}
}

// actionRun is one run of the Action: its inputs, the runner's files and
// the summary the mode fills in.
type actionRun struct {
	a   *app
	in  *action.Inputs
	r   *action.Runner
	sum action.Summary
	// file is where culprit annotations point (the image's Nix file).
	file string
	// lint is the image's lint result, when an image was at hand.
	lint *lint.Result
}

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
	x := &actionRun{a: a, in: in, r: r, sum: action.Summary{Mode: in.Mode, Files: map[string]string{}}}
	x.file = in.ManifestFile(r.Workspace())
	// Only the modes that run Nix work in the checkout; verify and publish
	// jobs need none, and use working-directory only to place annotations.
	if in.WorkingDirectory != "" && (in.Mode == action.ModeBuild || in.Mode == action.ModeReproduce) {
		restore, err := chdir(in.WorkingDirectory)
		if err != nil {
			r.Error(action.Annotation{Title: "nixdock: bad input", Message: err.Error()})
			return failure(err)
		}
		defer restore()
	}
	err = x.run(ctx)
	if err == nil {
		err = x.lintVerdict()
	}
	return x.finish(err)
}

func (x *actionRun) run(ctx context.Context) error {
	switch x.in.Mode {
	case action.ModeBuild:
		return x.build(ctx)
	case action.ModeVerify:
		return x.verify(ctx)
	case action.ModeReproduce:
		return x.reproduce(ctx)
	case action.ModePublish:
		return x.publish(ctx)
	}
	return usageError("input mode: %q is not a mode", x.in.Mode)
}

// finish writes the summary (also after a failure, saying what failed) and
// annotates a failure, then returns err for the exit code.
func (x *actionRun) finish(err error) error {
	var ee *exitError
	failed := err != nil && !(errors.As(err, &ee) && ee.code == ExitDiffers)
	if failed {
		x.sum.Verdict = action.VerdictFailed
		x.sum.Error = err.Error()
		x.r.Error(action.Annotation{File: x.file, Title: fmt.Sprintf("nixdock %s failed", x.in.Mode), Message: err.Error()})
	}
	if serr := x.r.AddSummary(x.sum.Markdown()); serr != nil && err == nil {
		return failure(serr)
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
func (x *actionRun) nixInputs() (build.Installable, []build.NixOption, error) {
	in := x.in
	inst := build.Installable{Flake: in.Installable, File: in.File, Attr: in.Attr}
	for _, kv := range in.ArgStr {
		k, v, _ := strings.Cut(kv, "=") // ParseInputs checked NAME=VALUE
		if inst.ArgStr == nil {
			inst.ArgStr = map[string]string{}
		}
		inst.ArgStr[strings.TrimSpace(k)] = v
	}
	if err := inst.Validate(); err != nil {
		return inst, nil, usageError("input %s: %s", action.InputInstallable, err)
	}
	var opts []build.NixOption
	for _, s := range in.NixOptions {
		o, err := build.ParseNixOption(s)
		if err != nil {
			return inst, nil, usageError("input %s: %s", action.InputNixOptions, err)
		}
		opts = append(opts, o)
	}
	return inst, opts, nil
}

// setOutputs sets step outputs and exports them as NIXDOCK_* variables to
// the job's later steps; empty values are skipped.
func (x *actionRun) setOutputs(kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if v == "" {
			continue
		}
		if err := x.r.SetOutput(k, v); err != nil {
			return failure(err)
		}
		if err := x.r.SetEnv(envName(k), v); err != nil {
			return failure(err)
		}
	}
	return nil
}

func envName(output string) string {
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

// build is the build mode: one builder of several. It runs `nixdock build`'s
// code with options filled from the inputs, then leaves the record (and the image as an OCI layout) in a
// directory that action.yml uploads as an artifact.
func (x *actionRun) build(ctx context.Context) error {
	dir, err := x.freshDir("build")
	if err != nil {
		return err
	}
	inst, nixOpts, err := x.nixInputs()
	if err != nil {
		return err
	}
	comp, err := image.ParseCompression(x.in.Compression)
	if err != nil {
		return usageError("input %s: %s", action.InputCompression, err)
	}
	opts := build.Options{Installable: inst, Compression: comp,
		Nix: build.Nix{Store: x.in.Store, Options: nixOpts, Log: x.a.ui.logWriter(), PassEnv: x.in.NixEnv}}
	recordPath := filepath.Join(dir, "record.json")
	end := x.r.Group("nix build " + installableText(x.in))
	res, err := x.a.buildImage(ctx, opts, recordPath)
	end()
	if err != nil {
		return err
	}
	defer res.Image.Close()
	rec := res.Record
	x.sum.Verdict, x.sum.Installable, x.sum.Digest = action.VerdictBuilt, rec.Installable.String(), rec.Image.ManifestDigest
	x.sum.Builders = []action.Builder{builderRow(rec)}
	x.sum.Files["record"] = recordPath
	if err := x.setOutputs(action.OutputRecord, recordPath, action.OutputDigest, rec.Image.ManifestDigest); err != nil {
		return err
	}
	if x.in.UploadImage {
		imgDir := filepath.Join(dir, "image")
		end := x.r.Group("writing the image to " + imgDir)
		err := writeLayout(imgDir, res)
		end()
		if err != nil {
			return failure(err)
		}
		if err := x.r.SetOutput(action.StepOutputImageDir, imgDir); err != nil {
			return failure(err)
		}
	}
	sbomFile, _, err := x.sbom(rec, dir, rec.Image.ManifestDigest)
	if err != nil {
		return err
	}
	if err := x.sbomOutput(sbomFile); err != nil {
		return err
	}
	if err := x.lintImage(ctx, res.Image.Image, rec.OutPath, string(res.Image.Form), true); err != nil {
		return err
	}
	if err := x.r.SetOutput(action.StepOutputArtifact, x.r.ArtifactName(x.in.ArtifactName)); err != nil {
		return failure(err)
	}
	if err := x.r.SetOutput(action.StepOutputUploadDir, dir); err != nil {
		return failure(err)
	}
	x.a.ui.Infof("built %s: %s", rec.Installable, rec.Image.ManifestDigest)
	return nil
}

// freshDir is an empty directory under RUNNER_TEMP/nixdock, so that a
// re-run step never uploads a previous run's files.
func (x *actionRun) freshDir(name string) (string, error) {
	dir, err := x.r.TempDir(name)
	if err != nil {
		return "", failure(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", failure(fmt.Errorf("cleaning %s: %w", dir, err))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", failure(err)
	}
	return dir, nil
}

// writeLayout writes the image as published (the record's manifest digest)
// to an OCI layout, which publish pushes byte for byte.
func writeLayout(dir string, res *build.Result) error {
	if res.Published == nil {
		return errors.New("the build returned no publishable image")
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(res.Published); err != nil {
		return fmt.Errorf("writing the image to %s: %w", dir, err)
	}
	return nil
}

func builderRow(rec *build.Record) action.Builder {
	id := rec.Builder.ID
	if id == "" {
		id = rec.Builder.RunnerName
	}
	return action.Builder{
		ID: id, DrvPath: rec.DrvPath, ManifestDigest: rec.Image.ManifestDigest,
		ConfigDigest: rec.Image.ConfigDigest, Layers: len(rec.Image.Layers), Closure: len(rec.Closure),
	}
}

func installableText(in *action.Inputs) string {
	if in.Installable != "" {
		return in.Installable
	}
	s := "-f " + in.File
	if in.Attr != "" {
		s += " -A " + in.Attr
	}
	return s
}

// readRecords reads the records the records input names (by default the
// artifacts that action.yml downloaded) and checks there are enough.
func (x *actionRun) readRecords(min int) ([]*build.Record, []string, error) {
	pattern := x.in.Records
	if pattern == "" {
		dir, err := x.r.TempDir("artifacts")
		if err != nil {
			return nil, nil, failure(err)
		}
		pattern = dir
	}
	files, err := action.FindRecords(pattern)
	if err != nil {
		return nil, nil, failure(err)
	}
	recs := make([]*build.Record, 0, len(files))
	for _, f := range files {
		rec, err := build.ReadRecord(f)
		if err != nil {
			return nil, nil, failure(fmt.Errorf("input records: %w", err))
		}
		recs = append(recs, rec)
	}
	if len(recs) < min {
		return nil, nil, failure(fmt.Errorf("input min-builders: found %d build record(s) in %s, want at least %d independent builds",
			len(recs), pattern, min))
	}
	return recs, files, nil
}
