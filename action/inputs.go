package action

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/nixdock/nixdock-action/internal/childenv"
	"github.com/nixdock/nixdock-action/sbom"
)

// Mode is what one run of the Action does.
type Mode string

// The modes of the Action; docs/action.md describes each.
const (
	// ModeReproduce builds twice in one job, in two isolated Nix stores,
	// and compares.
	ModeReproduce Mode = "reproduce"
	// ModeBuild is one of several builders: build, write the record and
	// leave record and image for upload as an artifact.
	ModeBuild Mode = "build"
	// ModeVerify compares the records of a run's builders.
	ModeVerify Mode = "verify"
	// ModePublish pushes, signs and attests a verified image.
	ModePublish Mode = "publish"
)

// Modes lists the modes in the order the documentation gives them.
var Modes = []Mode{ModeReproduce, ModeBuild, ModeVerify, ModePublish}

// The names of the inputs, as declared in action.yml.
const (
	InputMode             = "mode"
	InputInstallable      = "installable"
	InputFile             = "file"
	InputAttr             = "attr"
	InputArgStr           = "argstr"
	InputNixOptions       = "nix-options"
	InputNixEnv           = "nix-env"
	InputStore            = "store"
	InputRecords          = "records"
	InputImage            = "image"
	InputCompression      = "compression"
	InputKey              = "key"
	InputKeyless          = "keyless"
	InputCosignPassword   = "cosign-password"
	InputSBOMFormat       = "sbom-format"
	InputSBOMAuthor       = "sbom-author"
	InputMinBuilders      = "min-builders"
	InputAllowUnverified  = "allow-unverified"
	InputUploadImage      = "upload-image"
	InputArtifactName     = "artifact-name"
	InputWorkingDirectory = "working-directory"
	InputGitHubToken      = "github-token"
	InputLintFail         = "lint-fail"
	InputRequireSigned    = "require-signed-records"
)

// InputNames are every input nixdock reads, sorted. The action.yml test
// checks that each reaches `nixdock action` through env:.
var InputNames = []string{
	InputAllowUnverified, InputArgStr, InputArtifactName, InputAttr,
	InputCompression, InputCosignPassword, InputFile, InputGitHubToken,
	InputImage, InputInstallable, InputKey, InputKeyless, InputLintFail, InputMinBuilders,
	InputMode, InputNixEnv, InputNixOptions, InputRecords, InputRequireSigned, InputSBOMAuthor,
	InputSBOMFormat, InputStore, InputUploadImage, InputWorkingDirectory,
}

// SecretInputs are masked before anything is logged.
var SecretInputs = []string{InputCosignPassword, InputGitHubToken}

// EnvName is the variable the runner (and action.yml's env: mapping) uses
// for input name; go-githubactions reads exactly this name.
func EnvName(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// SBOM formats the Action accepts.
var SBOMFormats = []string{"spdx-json", "cyclonedx-json", "none"}

// Compressions the Action accepts (image.ParseCompression accepts the same).
var Compressions = []string{"gzip", "zstd", "none"}

// Inputs are the Action's inputs, parsed and checked.
type Inputs struct {
	Mode Mode
	// Installable is a flake reference (.#image); File and Attr the
	// classic form; ArgStr NAME=VALUE pairs for the classic form.
	Installable string
	File        string
	Attr        string
	ArgStr      []string
	// NixOptions are NAME=VALUE pairs passed as --option NAME VALUE.
	NixOptions []string
	// NixEnv names variables Nix may see although they look like secrets.
	NixEnv []string
	Store  string
	// Records is a directory or glob of build records (verify, publish).
	Records     string
	Image       string
	Compression string
	Key         string
	Keyless     bool
	// CosignPassword and GitHubToken are secrets: masked by Runner.Mask.
	CosignPassword string
	SBOMFormat     string
	// SBOMAuthor is who the SBOM names as its author and the image's
	// supplier; nil is the repository's owner.
	SBOMAuthor       *sbom.Party
	MinBuilders      int
	AllowUnverified  bool
	UploadImage      bool
	ArtifactName     string
	WorkingDirectory string
	GitHubToken      string
	// LintFail makes lint errors and warnings fail the step (exit 1);
	// by default they are advice, shown in the summary only.
	LintFail bool
	// RequireSigned counts, in verify and publish, only records signed by
	// the builder workflow (EnvBuilderWorkflow): a builder's record is
	// then a fact its job attested, not a file any job could upload.
	RequireSigned bool
}

// InputError is a bad input value; the message names the input.
type InputError struct {
	Input string
	Msg   string
}

func (e *InputError) Error() string { return fmt.Sprintf("input %s: %s", e.Input, e.Msg) }

func inputErr(name, format string, args ...any) error {
	return &InputError{Input: name, Msg: fmt.Sprintf(format, args...)}
}

// Defaults are the values action.yml declares; ParseInputs applies them to
// empty inputs too, so that `nixdock action` behaves the same when run by
// hand with only INPUT_MODE set.
var Defaults = map[string]string{
	InputMode:            "reproduce",
	InputCompression:     "gzip",
	InputKeyless:         "true",
	InputSBOMFormat:      "spdx-json",
	InputMinBuilders:     "2",
	InputAllowUnverified: "false",
	InputUploadImage:     "true",
	InputArtifactName:    "nixdock",
	InputLintFail:        "false",
	InputRequireSigned:   "false",
}

// ParseInputs reads and checks the inputs through getenv (os.Getenv in
// production). Secret values never appear in its errors.
func ParseInputs(getenv func(string) string) (*Inputs, error) {
	gha := githubactions.New(githubactions.WithGetenv(getenv))
	get := func(name string) string {
		if v := gha.GetInput(name); v != "" {
			return v
		}
		return Defaults[name]
	}
	in := &Inputs{
		Mode:             Mode(get(InputMode)),
		Installable:      get(InputInstallable),
		File:             get(InputFile),
		Attr:             get(InputAttr),
		Store:            get(InputStore),
		Records:          get(InputRecords),
		Image:            get(InputImage),
		Compression:      get(InputCompression),
		Key:              get(InputKey),
		CosignPassword:   getenv(EnvName(InputCosignPassword)),
		SBOMFormat:       get(InputSBOMFormat),
		ArtifactName:     get(InputArtifactName),
		WorkingDirectory: get(InputWorkingDirectory),
		GitHubToken:      strings.TrimSpace(getenv(EnvName(InputGitHubToken))),
	}
	var err error
	if in.ArgStr, err = pairs(InputArgStr, get(InputArgStr)); err != nil {
		return nil, err
	}
	if in.NixOptions, err = pairs(InputNixOptions, get(InputNixOptions)); err != nil {
		return nil, err
	}
	for i, line := range strings.Split(get(InputNixEnv), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := childenv.CheckName(line); err != nil {
			return nil, inputErr(InputNixEnv, "line %d: %v", i+1, err)
		}
		in.NixEnv = append(in.NixEnv, line)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{InputKeyless, &in.Keyless}, {InputAllowUnverified, &in.AllowUnverified}, {InputUploadImage, &in.UploadImage}, {InputLintFail, &in.LintFail},
		{InputRequireSigned, &in.RequireSigned}} {
		if *b.dst, err = parseBool(b.name, get(b.name)); err != nil {
			return nil, err
		}
	}
	if in.MinBuilders, err = parseCount(InputMinBuilders, get(InputMinBuilders)); err != nil {
		return nil, err
	}
	if v := get(InputSBOMAuthor); v != "" {
		p, err := sbom.ParseParty(v)
		if err != nil {
			return nil, inputErr(InputSBOMAuthor, "%v", err)
		}
		in.SBOMAuthor = &p
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return in, nil
}

// Validate checks values and their combinations for the chosen mode.
func (in *Inputs) Validate() error {
	if !slices.Contains(Modes, in.Mode) {
		return inputErr(InputMode, "%q is not a mode: use one of %s", in.Mode, strings.Join(modeNames(), ", "))
	}
	if !slices.Contains(Compressions, in.Compression) {
		return inputErr(InputCompression, "%q: use one of %s", in.Compression, strings.Join(Compressions, ", "))
	}
	if !slices.Contains(SBOMFormats, in.SBOMFormat) {
		return inputErr(InputSBOMFormat, "%q: use one of %s", in.SBOMFormat, strings.Join(SBOMFormats, ", "))
	}
	if !validArtifactName(in.ArtifactName) {
		return inputErr(InputArtifactName, "%q: use letters, digits, '-', '_' and '.' only", in.ArtifactName)
	}
	switch in.Mode {
	case ModeReproduce:
		if in.Store != "" {
			return inputErr(InputStore, "mode reproduce builds in two fresh stores of its own; store applies to mode build")
		}
		return in.validateInstallable()
	case ModeBuild:
		return in.validateInstallable()
	case ModePublish:
		if in.Image == "" {
			return inputErr(InputImage, "publish needs the repository to push to, such as ghcr.io/OWNER/NAME")
		}
		if in.Key == "" && !in.Keyless {
			return inputErr(InputKey, "publish signs the image: give a cosign key, or set keyless: true")
		}
	}
	return nil
}

func (in *Inputs) validateInstallable() error {
	switch {
	case in.Installable == "" && in.File == "":
		return inputErr(InputInstallable, "mode %s builds an image: give installable (.#image) or file and attr", in.Mode)
	case in.Installable != "" && in.File != "":
		return inputErr(InputInstallable, "give installable or file, not both")
	case in.Installable != "" && !strings.Contains(in.Installable, "#"):
		return inputErr(InputInstallable, "flake reference %q has no attribute: write it as %s#image", in.Installable, in.Installable)
	case in.Attr != "" && in.File == "":
		return inputErr(InputAttr, "attr applies to file only; with a flake write installable: .#%s", in.Attr)
	case len(in.ArgStr) > 0 && in.File == "":
		return inputErr(InputArgStr, "argstr applies to file only")
	}
	return nil
}

// Secrets are the secret input values that are set.
func (in *Inputs) Secrets() []string {
	var s []string
	for _, v := range []string{in.CosignPassword, in.GitHubToken} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// ManifestFile is the file the Action reports against in annotations: the
// Nix file of the classic form, or flake.nix of a local flake, relative to
// the workspace when it is inside it ("" when unknown).
func (in *Inputs) ManifestFile(workspace string) string {
	f := in.File
	if f == "" {
		ref, _, _ := strings.Cut(in.Installable, "#")
		ref = strings.TrimPrefix(ref, "path:")
		if ref == "" || strings.Contains(ref, ":") {
			return "" // a remote flake (github:, git+https:) has no file here
		}
		f = filepath.Join(ref, "flake.nix")
	}
	if in.WorkingDirectory != "" && !filepath.IsAbs(f) {
		f = filepath.Join(in.WorkingDirectory, f)
	}
	if workspace != "" && filepath.IsAbs(f) {
		if rel, err := filepath.Rel(workspace, f); err == nil && !strings.HasPrefix(rel, "..") {
			f = rel
		}
	}
	return filepath.ToSlash(filepath.Clean(f))
}

// pairs splits a multi-line NAME=VALUE input: one pair a line, blank lines
// and lines starting with # ignored, VALUE may be empty.
func pairs(input, s string) ([]string, error) {
	var out []string
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t") {
			return nil, inputErr(input, "line %d %q: want NAME=VALUE", i+1, line)
		}
		out = append(out, line)
	}
	return out, nil
}

// parseBool accepts the YAML 1.2 core schema booleans, as actions/toolkit's
// getBooleanInput does.
func parseBool(input, s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, inputErr(input, "%q is not a boolean: use true or false", s)
}

func parseCount(input, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, inputErr(input, "%q: want a whole number from 1 to 100", s)
	}
	return n, nil
}

func modeNames() []string {
	s := make([]string, len(Modes))
	for i, m := range Modes {
		s[i] = string(m)
	}
	return s
}

func validArtifactName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
