package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

type actionYML struct {
	Name     string
	Branding map[string]string
	Inputs   map[string]struct {
		Description string
		Default     *string
	}
	Outputs map[string]struct {
		Description string
		Value       string
	}
	Runs struct {
		Using string
		Steps []step
	}
}

type step struct {
	ID   string
	Name string
	If   string
	Uses string
	Run  string
	Env  map[string]string
	With map[string]string
}

func readActionYML(t *testing.T) actionYML {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestActionYMLInputsReachNixdock checks that action.yml declares exactly
// the inputs nixdock reads, each with a description and a default, and
// maps every one to the step that runs `nixdock action` under the name
// go-githubactions reads.
func TestActionYMLInputsReachNixdock(t *testing.T) {
	a := readActionYML(t)
	if a.Name == "" || a.Branding["icon"] == "" || a.Branding["color"] == "" || a.Runs.Using != "composite" {
		t.Errorf("name %q, branding %v, runs.using %q", a.Name, a.Branding, a.Runs.Using)
	}
	if got, want := strings.Join(sortedKeys(a.Inputs), " "), strings.Join(InputNames, " "); got != want {
		t.Errorf("action.yml inputs\n %s\nnixdock reads\n %s", got, want)
	}
	var run *step
	for i, s := range a.Runs.Steps {
		if runsNixdockAction.MatchString(s.Run) {
			run = &a.Runs.Steps[i]
		}
	}
	if run == nil {
		t.Fatal("no step runs `nixdock action`")
	}
	if run.ID != "nixdock" {
		t.Errorf("the step running nixdock has id %q; outputs read steps.nixdock", run.ID)
	}
	for _, name := range sortedKeys(a.Inputs) {
		in := a.Inputs[name]
		if in.Description == "" || in.Default == nil {
			t.Errorf("input %s: description %q, default set %v", name, in.Description, in.Default != nil)
		}
		if d, ok := Defaults[name]; ok && in.Default != nil && *in.Default != d {
			t.Errorf("input %s: action.yml default %q, nixdock's %q", name, *in.Default, d)
		}
		env := EnvName(name)
		if got, want := run.Env[env], "${{ inputs."+name+" }}"; got != want {
			t.Errorf("input %s: env %s is %q, want %q", name, env, got, want)
		}
	}
	for k := range run.Env {
		if strings.HasPrefix(k, "INPUT_") && a.Inputs[strings.ToLower(strings.TrimPrefix(k, "INPUT_"))].Description == "" {
			t.Errorf("env %s maps no declared input", k)
		}
	}
}

// stepOutputs are the outputs of action.yml that its own steps set, not
// nixdock: what the upload step and the hash step (build-hashes.sh) write.
var stepOutputs = map[string]string{
	"artifact-id":   "${{ steps.upload.outputs.artifact-id }}",
	"record-sha256": "${{ steps.hashes.outputs.record-sha256 }}",
	"image-sha256":  "${{ steps.hashes.outputs.image-sha256 }}",
}

// TestActionYMLOutputsAreWritten checks that every declared output comes
// from the nixdock step and is set by the Go code, or is one of the
// outputs action.yml's own steps set.
func TestActionYMLOutputsAreWritten(t *testing.T) {
	a := readActionYML(t)
	var fromNixdock []string
	for _, name := range sortedKeys(a.Outputs) {
		if want, ok := stepOutputs[name]; ok {
			if a.Outputs[name].Description == "" || a.Outputs[name].Value != want {
				t.Errorf("output %s: description %q, value %q, want %q", name, a.Outputs[name].Description, a.Outputs[name].Value, want)
			}
			continue
		}
		fromNixdock = append(fromNixdock, name)
	}
	if got, want := strings.Join(fromNixdock, " "), strings.Join(OutputNames, " "); got != want {
		t.Errorf("action.yml outputs %q, nixdock's %q", got, want)
	}
	ids := map[string]bool{}
	for _, s := range a.Runs.Steps {
		ids[s.ID] = true
	}
	for _, id := range []string{"upload", "hashes"} {
		if !ids[id] {
			t.Errorf("action.yml has no step %q, which outputs read", id)
		}
	}
	src := modeSources(t)
	consts := map[string]string{
		OutputReproducible: "OutputReproducible", OutputDigest: "OutputDigest", OutputImage: "OutputImage",
		OutputRecord: "OutputRecord", OutputReport: "OutputReport", OutputSBOM: "OutputSBOM", OutputLint: "OutputLint",
	}
	for _, name := range fromNixdock {
		o := a.Outputs[name]
		if o.Description == "" || o.Value != "${{ steps.nixdock.outputs."+name+" }}" {
			t.Errorf("output %s: description %q, value %q", name, o.Description, o.Value)
		}
		c, ok := consts[name]
		if !ok {
			t.Errorf("output %s has no constant in package action", name)
			continue
		}
		// Written through setOutputs or SetOutput with the constant.
		if !regexp.MustCompile(`(?s)(setOutputs|SetOutput)\((?:[^()]|\([^()]*\))*\b` + c + `\b`).MatchString(src) {
			t.Errorf("output %s (action.%s) is never set by the modes (action/mode*.go)", name, c)
		}
	}
	// The step outputs action.yml's own steps read are set too.
	for _, so := range []string{"StepOutputArtifact", "StepOutputUploadDir"} {
		if !strings.Contains(src, "SetOutput("+so) {
			t.Errorf("step output %s is never set", so)
		}
	}
}

func modeSources(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(), "action", "mode*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no action/mode*.go: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

var runsNixdockAction = regexp.MustCompile(`nixdock"? action\b`)

var inputsInExpr = regexp.MustCompile(`\$\{\{[^}]*\b(inputs|github\.event|secrets)\.`)

// TestNoInputInRunScripts checks action.yml and the workflows for script
// injection: no run: script interpolates inputs, event data or secrets;
// they reach scripts through env: only.
func TestNoInputInRunScripts(t *testing.T) {
	files := []string{filepath.Join(repoRoot(), "action.yml")}
	for _, g := range []string{".github/workflows/*.yml", "examples/workflows/*.yml"} {
		m, _ := filepath.Glob(filepath.Join(repoRoot(), g))
		files = append(files, m...)
	}
	if len(files) < 5 {
		t.Fatalf("found only %q", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		walkRuns(&doc, func(run *yaml.Node) {
			n++
			if inputsInExpr.MatchString(run.Value) {
				t.Errorf("%s:%d: run: interpolates %q; pass it through env:", f, run.Line, inputsInExpr.FindString(run.Value))
			}
		})
		if n == 0 && strings.HasSuffix(f, "action.yml") {
			t.Errorf("%s: no run: steps found", f)
		}
	}
}

func walkRuns(n *yaml.Node, f func(*yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "run" && n.Content[i+1].Kind == yaml.ScalarNode {
				f(n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		walkRuns(c, f)
	}
}

// TestActionlint runs actionlint on the workflows (which checks action.yml
// through the jobs that use ./) and on the examples.
func TestActionlint(t *testing.T) {
	bin, err := exec.LookPath("actionlint")
	if err != nil {
		if p := filepath.Join(os.Getenv("HOME"), "go", "bin", "actionlint"); fileExists(p) {
			bin = p
		} else if os.Getenv("NIXDOCK_REQUIRE_TOOLS") == "1" {
			t.Fatal("actionlint is not installed, and NIXDOCK_REQUIRE_TOOLS=1: run scripts/setup")
		} else {
			t.Skip("actionlint is not installed: run scripts/setup")
		}
	}
	examples, _ := filepath.Glob(filepath.Join(repoRoot(), "examples", "workflows", "*.yml"))
	if len(examples) < 3 {
		t.Fatalf("examples: %q", examples)
	}
	for _, args := range [][]string{nil, examples} {
		cmd := exec.Command(bin, append([]string{"-no-color"}, args...)...)
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("actionlint %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
