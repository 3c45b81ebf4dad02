package action

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestReusableWorkflowPermissions checks least privilege that GitHub will
// start: GitHub refuses a run at startup when any job of a called workflow
// asks for more than the caller grants, even a job its `if:` skips, so the
// README's pull-request check (`contents: read`, `id-token: write`) must
// meet every request. The builders ask for exactly those two and sign as
// nixdock-build.yml, a file of their own: never as nixdock.yml, the
// identity publish signs images with. source and verify ask for
// `contents: read`; publish asks for nothing (it inherits the caller's
// grant: a release grants packages too) and runs only after verify said
// the builds agree, on two signed records.
func TestReusableWorkflowPermissions(t *testing.T) {
	wf := readWorkflow(t, filepath.Join(repoRoot(), ".github", "workflows", "nixdock.yml"))
	bwf := readWorkflow(t, filepath.Join(repoRoot(), ".github", "workflows", "nixdock-build.yml"))
	for _, w := range []workflow{wf, bwf} {
		if _, ok := w.On["workflow_call"]; !ok {
			t.Error("not a reusable workflow (on: workflow_call)")
		}
		if len(w.Permissions) != 0 {
			t.Errorf("workflow-wide permissions %v: give each job its own", w.Permissions)
		}
	}
	prCheck := map[string]string{"contents": "read", "id-token": "write"}
	want := map[string]map[string]string{
		"source": {"contents": "read"}, "verify": {"contents": "read"},
		"build-a": prCheck, "build-b": prCheck, "publish": nil,
	}
	if len(wf.Jobs) != len(want) {
		t.Errorf("nixdock.yml has jobs %v, want %v", keys(wf.Jobs), keys(want))
	}
	for name, j := range wf.Jobs {
		if fmt.Sprint(j.Permissions) != fmt.Sprint(want[name]) {
			t.Errorf("job %s asks for %v, want %v", name, j.Permissions, want[name])
		}
	}
	if len(bwf.Jobs) != 1 || fmt.Sprint(bwf.Jobs["build"].Permissions) != fmt.Sprint(prCheck) {
		t.Errorf("nixdock-build.yml: want one job, build, asking for %v; have %d jobs, build asks for %v", prCheck, len(bwf.Jobs), bwf.Jobs["build"].Permissions)
	}
	p := wf.Jobs["publish"]
	if !needsOf(p.Needs)["verify"] || !strings.Contains(p.If, "inputs.publish") || !strings.Contains(p.If, "refs/tags/") ||
		!strings.Contains(p.If, "needs.verify.outputs.reproducible == 'true'") {
		t.Errorf("publish needs %v, if %q", p.Needs, p.If)
	}
	// verify and publish check the records' signatures against the builder
	// workflow at this commit; publish requires them and signs as
	// nixdock.yml.
	const builderWorkflow = "${{ needs.source.outputs.builder-workflow }}"
	for _, name := range []string{"verify", "publish"} {
		s := stepNamed(wf.Jobs[name].Steps, "nixdock")
		if s.Env[EnvBuilderWorkflow] != builderWorkflow {
			t.Errorf("job %s runs nixdock with %s=%q, want %q", name, EnvBuilderWorkflow, s.Env[EnvBuilderWorkflow], builderWorkflow)
		}
	}
	if s := stepNamed(p.Steps, "nixdock"); s.Env[EnvSignerWorkflowRef] != "${{ job.workflow_ref }}" || s.With[InputRequireSigned] != "true" {
		t.Errorf("publish runs nixdock with %s=%q and %s=%q; want job.workflow_ref and true", EnvSignerWorkflowRef, s.Env[EnvSignerWorkflowRef], InputRequireSigned, s.With[InputRequireSigned])
	}
	// The builder builds and nothing else: no repository token, no key.
	if s := stepNamed(bwf.Jobs["build"].Steps, "nixdock"); s.With["mode"] != "build" || s.With["github-token"] != "" || s.With["key"] != "" {
		t.Errorf("nixdock-build.yml runs nixdock with %v; want mode build and an empty github-token", s.With)
	}
	if _, ok := stepNamed(bwf.Jobs["build"].Steps, "nixdock").With["github-token"]; !ok {
		t.Error("nixdock-build.yml does not set github-token to '' (action.yml's default is the job's token)")
	}
}

// stepNamed is the step with id, or a zero step.
func stepNamed(steps []step, id string) step {
	for _, s := range steps {
		if s.ID == id {
			return s
		}
	}
	return step{}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// builders are the reusable workflow's build jobs.
var builders = []string{"build-a", "build-b"}

// TestReusableWorkflowTrust checks how the jobs trust each other: two named
// builders (no matrix, whose legs overwrite each other's outputs) pass
// their artifact id and hashes through job outputs; verify and publish
// download exactly those artifacts by id and check them before nixdock
// reads them; every job runs the action from the workflow's own commit.
func TestReusableWorkflowTrust(t *testing.T) {
	wf := readWorkflow(t, filepath.Join(repoRoot(), ".github", "workflows", "nixdock.yml"))
	src, ok := wf.Jobs["source"]
	if !ok || src.Outputs["sha"] == "" || src.Outputs["repository"] == "" || src.Outputs["builder-workflow"] == "" {
		t.Fatalf("no job source with outputs sha, repository and builder-workflow: %+v", src)
	}
	if s := stepNamed(src.Steps, "source"); !strings.Contains(s.Run, `builder-workflow=$REPOSITORY/.github/workflows/nixdock-build.yml@$SHA`) {
		t.Errorf("job source's builder-workflow is not nixdock-build.yml at the source commit:\n%s", s.Run)
	}
	var srcEnv map[string]string
	for _, s := range src.Steps {
		if s.ID == "source" {
			srcEnv = s.Env
		}
	}
	if srcEnv["SHA"] != "${{ job.workflow_sha }}" || srcEnv["REPOSITORY"] != "${{ job.workflow_repository }}" {
		t.Errorf("job source reads %v, want job.workflow_sha and job.workflow_repository", srcEnv)
	}
	// Two builders, each a call of nixdock-build.yml on its own runner.
	data, err := os.ReadFile(filepath.Join(repoRoot(), ".github", "workflows", "nixdock-build.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var bwf workflow
	var calls struct {
		On struct {
			WorkflowCall struct {
				Outputs map[string]struct{ Value string }
			} `yaml:"workflow_call"`
		} `yaml:"on"`
	}
	if err := errors.Join(yaml.Unmarshal(data, &bwf), yaml.Unmarshal(data, &calls)); err != nil {
		t.Fatalf("nixdock-build.yml: %v", err)
	}
	for i, b := range builders {
		j, ok := wf.Jobs[b]
		if !ok {
			t.Fatalf("no job %s", b)
		}
		runner := fmt.Sprintf("${{ fromJSON(inputs.runners)[%d] }}", i)
		if j.Uses != "./.github/workflows/nixdock-build.yml" || j.Strategy != nil || j.With["builder"] != b[len(b)-1:] || j.With["runner"] != runner {
			t.Errorf("job %s: uses %q, with %v, strategy %v; want nixdock-build.yml with builder %s on %s, no matrix (its legs overwrite each other's outputs)",
				b, j.Uses, j.With, j.Strategy, b[len(b)-1:], runner)
		}
	}
	build := bwf.Jobs["build"]
	if build.RunsOn != "${{ inputs.runner }}" {
		t.Errorf("nixdock-build.yml runs on %q", build.RunsOn)
	}
	for _, o := range []string{"artifact-id", "record-sha256", "image-sha256"} {
		if got, want := build.Outputs[o], "${{ steps.nixdock.outputs."+o+" }}"; got != want {
			t.Errorf("nixdock-build.yml's job output %s is %q, want %q", o, got, want)
		}
		if got, want := calls.On.WorkflowCall.Outputs[o].Value, "${{ jobs.build.outputs."+o+" }}"; got != want {
			t.Errorf("nixdock-build.yml's workflow output %s is %q, want %q", o, got, want)
		}
	}
	// The builder finds its own commit, with the very step source runs.
	if got, want := stepNamed(build.Steps, "source"), stepNamed(src.Steps, "source"); got.Run != want.Run || fmt.Sprint(got.Env) != fmt.Sprint(want.Env) {
		t.Errorf("nixdock-build.yml's source step differs from nixdock.yml's:\n%+v\n%+v", got, want)
	}
	for _, name := range []string{"verify", "publish"} {
		j := wf.Jobs[name]
		needs := needsOf(j.Needs)
		var downloads []string
		checked, records := 0, ""
		for _, s := range j.Steps {
			switch {
			case strings.HasPrefix(s.Uses, "actions/download-artifact@"):
				if s.With["pattern"] != "" || s.With["name"] != "" || s.With["artifact-ids"] == "" {
					t.Errorf("job %s downloads %v: download by artifact-ids only", name, s.With)
				}
				downloads = append(downloads, s.With["artifact-ids"])
			case strings.Contains(s.Run, "check-build.sh"):
				checked = strings.Count(s.Run, "check-build.sh")
				for _, b := range []string{"A", "B"} {
					for _, h := range []string{"RECORD", "IMAGE"} {
						want := "${{ needs.build-" + strings.ToLower(b) + ".outputs." + strings.ToLower(h) + "-sha256 }}"
						if s.Env[b+"_"+h] != want {
							t.Errorf("job %s: env %s_%s is %q, want %q", name, b, h, s.Env[b+"_"+h], want)
						}
					}
				}
			case s.ID == "nixdock":
				records = s.With["records"]
				if checked == 0 {
					t.Errorf("job %s runs nixdock before checking the downloads", name)
				}
			}
		}
		want := []string{"${{ needs.build-a.outputs.artifact-id }}", "${{ needs.build-b.outputs.artifact-id }}"}
		if strings.Join(downloads, " ") != strings.Join(want, " ") || checked != 2 {
			t.Errorf("job %s downloads %q and checks %d; want %q, both checked", name, downloads, checked, want)
		}
		if records != "${{ runner.temp }}/nixdock-builds" {
			t.Errorf("job %s: nixdock reads records %q, not only the two downloads", name, records)
		}
		for _, b := range append([]string{"source"}, builders...) {
			if !needs[b] {
				t.Errorf("job %s does not need %s", name, b)
			}
		}
	}
	// The action always runs from the checkout of the workflow's commit:
	// source's outputs in nixdock.yml, the build job's own source step in
	// nixdock-build.yml.
	for file, w := range map[string]workflow{"nixdock.yml": wf, "nixdock-build.yml": bwf} {
		from := "needs.source.outputs"
		if file == "nixdock-build.yml" {
			from = "steps.source.outputs"
		}
		for name, j := range w.Jobs {
			checkedOut := false
			for _, s := range j.Steps {
				if strings.Contains(s.Uses, thisProject) {
					t.Errorf("%s: job %s uses %s: a floating ref, not the workflow's commit", file, name, s.Uses)
				}
				if strings.HasPrefix(s.Uses, "actions/checkout@") && s.With["path"] == ".nixdock-action" {
					checkedOut = s.With["ref"] == "${{ "+from+".sha }}" &&
						s.With["repository"] == "${{ "+from+".repository }}" && s.With["persist-credentials"] == "false"
					if !checkedOut {
						t.Errorf("%s: job %s checks out the action with %v", file, name, s.With)
					}
				}
				if s.Uses == "./.nixdock-action" && !checkedOut {
					t.Errorf("%s: job %s runs ./.nixdock-action before checking it out at %s.sha", file, name, from)
				}
			}
		}
	}
}
