package action

import (
	"errors"
	"fmt"
	"github.com/nixdock/nixdock-action/recsig"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
	"github.com/sethvargo/go-githubactions"
)

// The names of the Action's outputs, as declared in action.yml.
const (
	OutputReproducible = "reproducible"
	OutputDigest       = "digest"
	OutputImage        = "image"
	OutputRecord       = "record"
	OutputReport       = "report"
	OutputSBOM         = "sbom"
	OutputLint         = "lint"
)

// Step outputs that action.yml's own steps read (artifact upload); they are
// not outputs of the Action.
const (
	StepOutputArtifact  = "artifact"
	StepOutputUploadDir = "upload-dir"
	StepOutputImageDir  = "image-dir"
)

// OutputNames are the Action's outputs.
var OutputNames = []string{OutputDigest, OutputImage, OutputLint, OutputRecord, OutputReport, OutputReproducible, OutputSBOM}

// Runner writes to the files and the stdout stream the Actions runner reads.
type Runner struct {
	gha    *githubactions.Action
	getenv func(string) string
	// stdout takes the workflow commands nixdock means to issue, each made
	// by escape.Command; no other text is written to it.
	stdout io.Writer
}

// The files a step must be given; without them nixdock is not inside a runner.
var requiredFiles = []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"}

// NewRunner returns a Runner that issues workflow commands on stdout and
// reads the runner's variables through getenv. It fails, naming the
// variable, when the runner's files are not set.
func NewRunner(stdout io.Writer, getenv func(string) string) (*Runner, error) {
	for _, v := range requiredFiles {
		if getenv(v) == "" {
			return nil, fmt.Errorf("%s is not set: `nixdock action` runs as a GitHub Actions step (see docs/action.md)", v)
		}
	}
	return &Runner{
		gha:    githubactions.New(githubactions.WithWriter(stdout), githubactions.WithGetenv(getenv)),
		getenv: getenv,
		stdout: stdout,
	}, nil
}

// MaskSecrets masks the secret inputs, read straight from the environment
// so that they are masked before inputs are parsed or anything is logged.
// A multi-line secret is masked line by line, as the runner matches lines.
func (r *Runner) MaskSecrets() {
	for _, name := range SecretInputs {
		r.Mask(r.getenv(EnvName(name)))
	}
}

// Mask hides s (each of its lines) in the log from here on.
func (r *Runner) Mask(s string) {
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			r.command("add-mask", nil, line)
		}
	}
}

// SetOutput sets a step output; the file is written at once, so outputs set
// before a failure still reach the workflow.
func (r *Runner) SetOutput(name, value string) error {
	return r.fileCommand("GITHUB_OUTPUT", r.gha.SetOutput, name, value)
}

// SetEnv exports a variable to the job's later steps when GITHUB_ENV is set.
func (r *Runner) SetEnv(name, value string) error {
	if r.getenv("GITHUB_ENV") == "" {
		return nil
	}
	return r.fileCommand("GITHUB_ENV", r.gha.SetEnv, name, value)
}

// AddSummary appends Markdown to the job summary.
func (r *Runner) AddSummary(markdown string) error {
	return r.protect("GITHUB_STEP_SUMMARY", func() { r.gha.AddStepSummary(markdown) })
}

func (r *Runner) fileCommand(file string, set func(k, v string), k, v string) error {
	return r.protect(file, func() { set(k, v) })
}

// protect turns go-githubactions' panics on unwritable files into errors.
func (r *Runner) protect(file string, f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing %s (%s): %v", file, r.getenv(file), p)
		}
	}()
	f()
	return nil
}

// Group starts a collapsed log group; call the returned function to end it.
func (r *Runner) Group(title string) func() {
	r.command("group", nil, escape.Text(title))
	return func() { r.command("endgroup", nil, "") }
}

// command writes one workflow command line to stdout. Values are escaped
// by escape.Command; human text must be escape.Text already.
func (r *Runner) command(name string, props map[string]string, msg string) {
	fmt.Fprintln(r.stdout, escape.Command(name, props, msg))
}

// Annotation is an error shown on the run's page and, when File is in the
// repository, on the pull request's diff.
type Annotation struct {
	File    string
	Line    int
	Title   string
	Message string
}

// Error issues an error annotation. Title and message name store paths and
// files of the image: they are escaped as text, then as command values, so
// the annotation is one command line and shows what it names (a message
// of several lines stays several lines in the annotation).
func (r *Runner) Error(a Annotation) {
	fields := map[string]string{}
	if a.File != "" {
		fields["file"] = escape.Text(a.File)
		if a.Line > 0 {
			fields["line"] = fmt.Sprint(a.Line)
		}
	}
	if a.Title != "" {
		fields["title"] = escape.Text(a.Title)
	}
	r.command("error", fields, escape.Lines(a.Message))
}

// Notice issues a notice annotation.
func (r *Runner) Notice(title, message string) {
	r.command("notice", map[string]string{"title": escape.Text(title)}, escape.Lines(message))
}

// TempDir is nixdock's directory under RUNNER_TEMP (created), where records,
// images and reports are written for later steps and artifact upload.
func (r *Runner) TempDir(sub ...string) (string, error) {
	base := r.getenv("RUNNER_TEMP")
	if base == "" {
		base = os.TempDir()
	}
	dir := filepath.Join(append([]string{base, "nixdock"}, sub...)...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	return dir, nil
}

// Workspace is GITHUB_WORKSPACE ("" outside a runner).
func (r *Runner) Workspace() string { return r.getenv("GITHUB_WORKSPACE") }

// Getenv reads the runner's environment.
func (r *Runner) Getenv(k string) string { return r.getenv(k) }

// ArtifactName is the name under which a builder uploads its record and
// image: prefix-build-<job>-<image OS>-<runner name>, made of the
// characters artifact names allow, so parallel builders never collide.
func (r *Runner) ArtifactName(prefix string) string {
	parts := []string{prefix, "build"}
	for _, v := range []string{"GITHUB_JOB", "ImageOS", "RUNNER_NAME"} {
		if s := r.getenv(v); s != "" {
			parts = append(parts, s)
		}
	}
	name := unsafeArtifactChars.ReplaceAllString(strings.Join(parts, "-"), "-")
	return strings.Trim(name, "-.")
}

var unsafeArtifactChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// ErrNoRecords is returned by FindRecords when nothing matches.
var ErrNoRecords = errors.New("no build records found")

// FindRecords expands the records input: a directory is searched
// recursively for files named record.json or *record.json (downloaded
// artifacts hold one directory per builder, with its SBOM and image next to
// the record), anything else is a glob. The result is sorted.
func FindRecords(pattern string) ([]string, error) {
	var files []string
	if fi, err := os.Stat(pattern); err == nil && fi.IsDir() {
		err := filepath.WalkDir(pattern, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Image layouts hold index.json and blobs: not records.
			if d.IsDir() && (d.Name() == "image" || d.Name() == "blobs") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "record.json") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("input %s: searching %s: %w", InputRecords, pattern, err)
		}
	} else {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("input %s: %q is not a valid glob: %w", InputRecords, pattern, err)
		}
		// A glob such as records/*.json also matches the records'
		// signatures (recsig.Path), which are not records.
		for _, f := range m {
			if !strings.HasSuffix(f, recsig.Suffix) {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input %s: %w in %s", InputRecords, ErrNoRecords, pattern)
	}
	sort.Strings(files)
	return files, nil
}
