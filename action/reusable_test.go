package action

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestReusableWorkflowPermissions checks least privilege that GitHub will
// start: GitHub refuses a run at startup when any job of a called workflow
// asks for more than the caller grants, even a job its `if:` skips, so the
// README's pull-request check (`contents: read`) must meet every request.
// Every job but publish asks for `contents: read` only; publish asks for
// nothing (it inherits the caller's grant: a release grants id-token and
// packages). The builders must never get id-token: their keyless identity
// would be this workflow file's, the identity publish signs images with.
// publish runs only after verify said the builds agree.
func TestReusableWorkflowPermissions(t *testing.T) {
	wf := readWorkflow(t, filepath.Join(repoRoot(), ".github", "workflows", "nixdock.yml"))
	if _, ok := wf.On["workflow_call"]; !ok {
		t.Error("not a reusable workflow (on: workflow_call)")
	}
	if len(wf.Permissions) != 0 {
		t.Errorf("workflow-wide permissions %v: publish would be held to them; give each job its own", wf.Permissions)
	}
	inherit := map[string]bool{"publish": true}
	prCheck := map[string]string{"contents": "read"}
	for name, j := range wf.Jobs {
		if inherit[name] {
			if len(j.Permissions) != 0 {
				t.Errorf("job %s asks for %v: a pull-request caller granting contents: read would fail at startup", name, j.Permissions)
			}
			continue
		}
		if len(j.Permissions) == 0 {
			t.Errorf("job %s asks for no permissions: it would inherit the caller's grant", name)
		}
		for k, v := range j.Permissions {
			if prCheck[k] != v {
				t.Errorf("job %s asks for %s: %s, more than a pull-request check grants (contents: read)", name, k, v)
			}
		}
	}
	p := wf.Jobs["publish"]
	if !needsOf(p.Needs)["verify"] || !strings.Contains(p.If, "inputs.publish") || !strings.Contains(p.If, "refs/tags/") ||
		!strings.Contains(p.If, "needs.verify.outputs.reproducible == 'true'") {
		t.Errorf("publish needs %v, if %q", p.Needs, p.If)
	}
	// verify and publish check the signatures records carry against this
	// workflow's identity.
	for _, name := range []string{"verify", "publish"} {
		for _, s := range wf.Jobs[name].Steps {
			if s.ID == "nixdock" && s.Env[EnvSignerWorkflowRef] != "${{ job.workflow_ref }}" {
				t.Errorf("job %s runs nixdock with %s=%q, want job.workflow_ref", name, EnvSignerWorkflowRef, s.Env[EnvSignerWorkflowRef])
			}
		}
	}
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
	if !ok || src.Outputs["sha"] == "" || src.Outputs["repository"] == "" {
		t.Fatalf("no job source with outputs sha and repository: %+v", src)
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
	for _, b := range builders {
		j, ok := wf.Jobs[b]
		if !ok {
			t.Fatalf("no job %s", b)
		}
		if j.Strategy != nil {
			t.Errorf("job %s has a strategy: matrix legs overwrite each other's outputs", b)
		}
		for _, o := range []string{"artifact-id", "record-sha256", "image-sha256"} {
			if got, want := j.Outputs[o], "${{ steps.nixdock.outputs."+o+" }}"; got != want {
				t.Errorf("job %s output %s is %q, want %q", b, o, got, want)
			}
		}
	}
	if wf.Jobs["build-a"].RunsOn == wf.Jobs["build-b"].RunsOn {
		t.Errorf("both builders run on %q", wf.Jobs["build-a"].RunsOn)
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
	// The action always runs from the checkout of the workflow's commit.
	for name, j := range wf.Jobs {
		checkedOut := false
		for _, s := range j.Steps {
			if strings.Contains(s.Uses, thisProject) {
				t.Errorf("job %s uses %s: a floating ref, not the workflow's commit", name, s.Uses)
			}
			if strings.HasPrefix(s.Uses, "actions/checkout@") && s.With["path"] == ".nixdock-action" {
				checkedOut = s.With["ref"] == "${{ needs.source.outputs.sha }}" &&
					s.With["repository"] == "${{ needs.source.outputs.repository }}" && s.With["persist-credentials"] == "false"
				if !checkedOut {
					t.Errorf("job %s checks out the action with %v", name, s.With)
				}
			}
			if s.Uses == "./.nixdock-action" && !checkedOut {
				t.Errorf("job %s runs ./.nixdock-action before checking it out at needs.source.outputs.sha", name)
			}
		}
	}
}
