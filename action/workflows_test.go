package action

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// workflowFiles are every file of the repository that references actions:
// action.yml, the workflows and the examples.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(repoRoot(), "action.yml")}
	for _, g := range []string{".github/workflows/*.yml", "examples/workflows/*.yml"} {
		m, _ := filepath.Glob(filepath.Join(repoRoot(), g))
		files = append(files, m...)
	}
	if len(files) < 6 {
		t.Fatalf("found only %q", files)
	}
	return files
}

// actionRef is one `uses:` of a workflow or of action.yml.
type actionRef struct {
	file    string
	line    int
	uses    string // as written
	comment string // the line comment, without "#"
}

func actionRefs(t *testing.T) []actionRef {
	t.Helper()
	var refs []actionRef
	for _, f := range workflowFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if k, v := n.Content[i], n.Content[i+1]; k.Value == "uses" && v.Kind == yaml.ScalarNode {
						refs = append(refs, actionRef{file: f, line: v.Line, uses: v.Value,
							comment: strings.TrimSpace(strings.TrimPrefix(v.LineComment, "#"))})
					}
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
	}
	if len(refs) < 10 {
		t.Fatalf("found only %d uses:", len(refs))
	}
	return refs
}

var (
	fullSHA     = regexp.MustCompile(`^[0-9a-f]{40}$`)
	versionTag  = regexp.MustCompile(`^v(\d+)(\.\d+){0,2}$`)
	exactTag    = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	thisProject = "nixdock/nixdock-action"
)

// split returns the action (OWNER/NAME, without a path inside the
// repository) and the ref of a remote reference.
func (r actionRef) split() (action, ref string, ok bool) {
	at := strings.LastIndex(r.uses, "@")
	if at < 0 {
		return "", "", false
	}
	parts := strings.SplitN(r.uses[:at], "/", 3)
	if len(parts) < 2 {
		return "", "", false
	}
	return parts[0] + "/" + parts[1], r.uses[at+1:], true
}

// major is the major version a reference runs: its tag, or for a commit
// the version in its comment.
func (r actionRef) major() (int, bool) {
	_, ref, _ := r.split()
	v := ref
	if fullSHA.MatchString(ref) {
		v = r.comment
	}
	m := versionTag.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// readRuntimes reads testdata/action-runtimes.txt: action -> major -> runtime.
func readRuntimes(t *testing.T) map[string]map[int]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "action-runtimes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table := map[string]map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		major, err := strconv.Atoi(fieldOr(fields, 1))
		if len(fields) != 3 || err != nil {
			t.Fatalf("action-runtimes.txt:%d: want ACTION MAJOR RUNTIME, got %q", n, line)
		}
		if table[fields[0]] == nil {
			table[fields[0]] = map[int]string{}
		}
		table[fields[0]][major] = fields[2]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return table
}

func fieldOr(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// TestActionRuntimes fails when an action the repository uses runs on a
// runtime older than node24 (GitHub deprecated Node 20 on its runners), or
// when its version is missing from testdata/action-runtimes.txt.
func TestActionRuntimes(t *testing.T) {
	table := readRuntimes(t)
	ok := map[string]bool{"node24": true, "composite": true, "docker": true}
	for _, r := range actionRefs(t) {
		if strings.HasPrefix(r.uses, "./") {
			continue // this repository's own composite action
		}
		action, _, valid := r.split()
		major, known := r.major()
		if !valid || !known {
			t.Errorf("%s:%d: uses %q (comment %q): cannot tell its major version", r.file, r.line, r.uses, r.comment)
			continue
		}
		rt, listed := table[action][major]
		switch {
		case !listed:
			t.Errorf("%s:%d: %s v%d is not in testdata/action-runtimes.txt: look up its runs.using and add it", r.file, r.line, action, major)
		case !ok[rt]:
			t.Errorf("%s:%d: %s v%d runs on %s; use a version that runs on node24", r.file, r.line, action, major, rt)
		}
	}
}

// TestActionRuntimesTableCatchesNode20 checks the test above on a reference
// it must refuse, so that it cannot pass by reading nothing.
func TestActionRuntimesTableCatchesNode20(t *testing.T) {
	table := readRuntimes(t)
	r := actionRef{uses: "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", comment: "v4.2.2"}
	action, _, _ := r.split()
	major, _ := r.major()
	if action != "actions/checkout" || major != 4 || table[action][major] != "node20" {
		t.Errorf("checkout v4.2.2 by commit: action %q major %d runtime %q, want node20", action, major, table[action][major])
	}
}

// TestThirdPartyActionsPinned checks that every action of another project
// is pinned by full commit SHA, with its exact version in a comment
// (`@<sha> # v7.0.1`), so that a moved tag cannot change what runs. This
// project's own action and workflow are referenced by tag in examples
// (users choose how to pin them) and by path inside the repository.
func TestThirdPartyActionsPinned(t *testing.T) {
	for _, r := range actionRefs(t) {
		action, ref, valid := r.split()
		if strings.HasPrefix(r.uses, "./") || (valid && action == thisProject) {
			continue
		}
		if !valid || !fullSHA.MatchString(ref) || !exactTag.MatchString(r.comment) {
			t.Errorf("%s:%d: uses %q # %q: pin it as OWNER/NAME@<40-hex commit> # vX.Y.Z", r.file, r.line, r.uses, r.comment)
		}
	}
}

// TestNoBuildCacheWithIDToken checks issue 17's cache-poisoning path: no
// job that can mint an OIDC token restores a build cache, and action.yml
// (which the publish job runs, building its signer) never does.
func TestNoBuildCacheWithIDToken(t *testing.T) {
	a := readActionYML(t)
	n := 0
	for _, s := range a.Runs.Steps {
		if strings.HasPrefix(s.Uses, "actions/setup-go@") {
			n++
			if s.With["cache"] != "false" {
				t.Errorf("action.yml: setup-go has cache %q, want false", s.With["cache"])
			}
		}
	}
	if n == 0 {
		t.Error("action.yml: no setup-go step found")
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot(), ".github", "workflows", "*.yml"))
	for _, f := range files {
		wf := readWorkflow(t, f)
		for name, j := range wf.Jobs {
			if j.Permissions["id-token"] != "write" && wf.Permissions["id-token"] != "write" {
				continue
			}
			for _, s := range j.Steps {
				if (strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["cache"] != "false") || strings.HasPrefix(s.Uses, "actions/cache") {
					t.Errorf("%s: job %s holds id-token: write and restores a cache (%s)", f, name, s.Uses)
				}
			}
		}
	}
}

type workflow struct {
	On          map[string]any `yaml:"on"`
	Permissions map[string]string
	Jobs        map[string]struct {
		Needs       any
		If          string
		Uses        string
		With        map[string]string
		RunsOn      string `yaml:"runs-on"`
		Permissions map[string]string
		Strategy    map[string]any
		Outputs     map[string]string
		Steps       []step
	}
}

func readWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return wf
}

func needsOf(v any) map[string]bool {
	m := map[string]bool{}
	switch n := v.(type) {
	case string:
		m[n] = true
	case []any:
		for _, x := range n {
			if s, ok := x.(string); ok {
				m[s] = true
			}
		}
	}
	return m
}
