package verify_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nixdock/nixdock-action/build"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/verify"
)

// stores are three chroot stores shared by every test of this file, so that
// each attribute is built once per store.
type stores struct {
	once    sync.Once
	a, b, c string
	mu      sync.Mutex
	builds  map[string]*build.Result
}

var shared stores

// build returns FILE -A ATTR built in store "a", "b" or "c", building it
// once.
func (s *stores) build(t *testing.T, which, file, attr string) *build.Result {
	t.Helper()
	nixtest.Require(t)
	s.once.Do(func() {
		s.a, s.b, s.c = newSharedStore(t), newSharedStore(t), newSharedStore(t)
		s.builds = map[string]*build.Result{}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	key := which + " " + file + " " + attr
	if r, ok := s.builds[key]; ok {
		return r
	}
	store := map[string]string{"a": s.a, "b": s.b, "c": s.c}[which]
	res, err := build.Run(context.Background(), build.Options{
		Installable: record.Installable{File: nixtest.File(file), Attr: attr},
		Nix:         nixtest.Nix(t, store),
	})
	if err != nil {
		t.Fatalf("building %s -A %s in %s: %v", file, attr, store, err)
	}
	s.builds[key] = res
	return res
}

// newSharedStore makes a store that outlives the first test using it; the
// package's TestMain removes it.
func newSharedStore(t *testing.T) string {
	dir, err := makeTempStore()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// storePathNamed finds the closure path whose name ends with suffix.
func storePathNamed(t *testing.T, rec *record.Record, suffix string) record.PathInfo {
	t.Helper()
	for _, p := range rec.Closure {
		if strings.HasSuffix(p.Path, suffix) {
			return p
		}
	}
	t.Fatalf("no store path ending in %s in the closure of %s", suffix, rec.OutPath)
	return record.PathInfo{}
}

func TestUnreproducibleImages(t *testing.T) {
	cases := []struct {
		attr, root, cause string
		consequences      []string // store paths reported as consequences
	}{
		{attr: "date", root: "-stamp-1.0", cause: verify.CauseTimestamp},
		{attr: "random", root: "-salt-1.0", cause: verify.CauseRandom},
		{attr: "order", root: "-listing-1.0", cause: verify.CauseOrder},
		{attr: "buildPath", root: "-compiler-1.0", cause: verify.CauseBuildPath},
		{attr: "createdNow", root: "(image)", cause: verify.CauseConfig},
		{attr: "consequence", root: "-stamp-1.0", cause: verify.CauseTimestamp, consequences: []string{"-stamp-checksum-1.0", "-stamp-copy-1.0"}},
	}
	for _, tc := range cases {
		t.Run(tc.attr, func(t *testing.T) {
			a := shared.build(t, "a", "unreproducible.nix", tc.attr)
			b := shared.build(t, "b", "unreproducible.nix", tc.attr)
			want := record.PathInfo{Path: a.Record.OutPath, Deriver: a.Record.DrvPath}
			if tc.root != "(image)" {
				want = storePathNamed(t, a.Record, tc.root)
			}
			rep, err := verify.Records(context.Background(), []*record.Record{a.Record, b.Record},
				verify.Options{Images: []*image.Image{a.Image, b.Image}})
			if err != nil {
				t.Fatal(err)
			}
			checkCulprits(t, rep, want, tc.cause, tc.consequences, a.Record)
			if !strings.Contains(rep.Verdict, want.Path) {
				t.Errorf("verdict %q does not name %s", rep.Verdict, want.Path)
			}

			// The same images without records: the diff alone still names
			// the store path (and finds consequences by what they embed, and
			// the copy by its files, identical to stamp's pair for pair).
			rep, err = verify.Images(context.Background(), a.Image, b.Image, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.root == "(image)" {
				want = record.PathInfo{} // the config's owner is unknown without a record
			} else {
				want.Deriver = ""
			}
			checkCulprits(t, rep, want, tc.cause, tc.consequences, a.Record)
		})
	}
}

func checkCulprits(t *testing.T, rep *verify.Report, want record.PathInfo, cause string, consequences []string, rec *record.Record) {
	t.Helper()
	if rep.Reproducible {
		t.Fatalf("report says reproducible: %s", rep.Verdict)
	}
	var roots, cons []verify.Culprit
	for _, c := range rep.Culprits {
		if c.Root() {
			roots = append(roots, c)
		} else {
			cons = append(cons, c)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("want exactly one root culprit, got %+v", rep.Culprits)
	}
	got := roots[0]
	if got.StorePath != want.Path {
		t.Errorf("culprit %q, want %q", got.StorePath, want.Path)
	}
	if got.DrvPath != want.Deriver {
		t.Errorf("culprit deriver %q, want %q", got.DrvPath, want.Deriver)
	}
	if !contains(got.Causes, cause) {
		t.Errorf("causes %v, want %s among them (evidence %q)", got.Causes, cause, got.Evidence)
	}
	if got.Hint == "" || (got.DrvPath != "" && !strings.Contains(got.Hint, got.DrvPath)) {
		t.Errorf("hint %q does not name the deriver %s", got.Hint, got.DrvPath)
	}
	if len(cons) != len(consequences) {
		t.Errorf("consequences %+v, want %v", cons, consequences)
		return
	}
	for _, name := range consequences {
		wantCons := storePathNamed(t, rec, name)
		found := false
		for _, c := range cons {
			found = found || c.StorePath == wantCons.Path && c.ConsequenceOf == want.Path
		}
		if !found {
			t.Errorf("want %s as a consequence of %s, got %+v", wantCons.Path, want.Path, cons)
		}
	}
	if len(consequences) == 0 {
		return
	}
	if !strings.Contains(rep.Verdict, fmt.Sprintf("; %d consequence(s)", len(consequences))) {
		t.Errorf("verdict %q does not count %d consequences", rep.Verdict, len(consequences))
	}
	if rep.Culprits[len(rep.Culprits)-1].Root() {
		t.Errorf("consequences must come after root causes: %+v", rep.Culprits)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestReproducibleImage(t *testing.T) {
	a := shared.build(t, "a", "hello.nix", "image")
	b := shared.build(t, "b", "hello.nix", "image")
	rep, err := verify.Records(context.Background(), []*record.Record{a.Record, b.Record}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Reproducible || !rep.Inputs.Same || len(rep.Culprits) != 0 || len(rep.Differences) != 0 {
		t.Fatalf("hello should verify as identical: %s %+v", rep.Verdict, rep.Differences)
	}
	for _, want := range []string{a.Record.Image.ManifestDigest, a.Record.Builder.ID, b.Record.Builder.ID} {
		if !strings.Contains(rep.Verdict, want) {
			t.Errorf("verdict %q does not name %s", rep.Verdict, want)
		}
	}
	rep, err = verify.Images(context.Background(), a.Image, b.Image, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Reproducible || len(rep.Differences) != 0 {
		t.Fatalf("the hello images should be identical: %s", rep.Verdict)
	}
}

func TestInputsDiffer(t *testing.T) {
	nixtest.Require(t)
	a := shared.build(t, "a", "hello.nix", "image")
	res, err := build.Run(context.Background(), build.Options{
		Installable: record.Installable{File: nixtest.File("hello.nix"), Attr: "image", ArgStr: map[string]string{"greeting": "Bonjour"}},
		Nix:         nixtest.Nix(t, shared.b),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Image.Close()
	rep, err := verify.Records(context.Background(), []*record.Record{a.Record, res.Record}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reproducible || rep.Inputs.Same {
		t.Fatalf("want inputs differ, got %s", rep.Verdict)
	}
	if !strings.HasPrefix(rep.Verdict, "inputs differ") || !strings.Contains(rep.Verdict, "greeting-data-1.0 (args)") {
		t.Errorf("verdict %q should say inputs differ and name greeting-data's args", rep.Verdict)
	}
	var args, env, input bool
	for _, d := range rep.Inputs.Differences {
		switch {
		case d.Derivation == "greeting-data-1.0" && d.Field == "args" && !d.ViaInput && strings.Contains(d.B, "Bonjour"):
			args = true
		case d.Derivation == "greeting-data-1.0" && d.Field == "env" && d.Name == "out" && d.ViaInput:
			env = true
		case d.Derivation == "hello-2.12.1" && d.Field == "inputDrvs" && d.Name == "greeting-data-1.0":
			input = true
		}
	}
	if !args || !env || !input {
		t.Errorf("input differences lack greeting-data's args (%v), env var out (%v) or hello's changed input (%v): %+v",
			args, env, input, rep.Inputs.Differences)
	}
}
