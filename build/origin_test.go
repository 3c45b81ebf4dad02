package build_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/record"
)

// TestSubstitutedImageIsRebuilt: a builder whose store got the image from
// elsewhere (here `nix copy` from store A, as a shared binary cache would
// give it) did not build it. nixdock build finds that out (Nix does not
// mark the path ultimate), rebuilds the image derivation in its own store
// and checks the bytes against the copy: the record says "rebuilt", and
// the records of the two stores count as two builds.
func TestSubstitutedImageIsRebuilt(t *testing.T) {
	nixtest.Require(t)
	storeA, storeB := nixtest.NewStore(t), nixtest.NewStore(t)
	a := buildRecord(t, "-f", nixtest.File("hello.nix"), "-A", "image", "--store", storeA)
	if a.Origin == nil || a.Origin.How != record.OriginBuilt || a.Origin.Host != record.HostFingerprint() || a.Origin.RegistrationTime == 0 {
		t.Fatalf("store A's record: origin %+v, want built here", a.Origin)
	}
	out, err := exec.Command("nix", "--extra-experimental-features", "nix-command", "copy", "--no-check-sigs",
		"--from", storeA, "--to", storeB, a.OutPath).CombinedOutput()
	if err != nil {
		t.Fatalf("nix copy: %v\n%s", err, out)
	}
	b := buildRecord(t, "-f", nixtest.File("hello.nix"), "-A", "image", "--store", storeB)
	if b.Origin == nil || b.Origin.How != record.OriginRebuilt {
		t.Fatalf("store B's record: origin %+v, want rebuilt (the image was copied in, not built)", b.Origin)
	}
	d := agree.Decide([]*record.Record{a, b}, agree.Policy{MinBuilders: 2})
	if !d.Agreed || d.Hosts != 1 || d.Builders[1].Isolation != "separate store on one host" {
		t.Errorf("decision %+v", d)
	}
	// The record as it would read had nixdock trusted the copy: it does
	// not count.
	sub := *b
	o := *b.Origin
	o.How = record.OriginSubstituted
	sub.Origin = &o
	d = agree.Decide([]*record.Record{a, &sub}, agree.Policy{MinBuilders: 2})
	if d.Agreed || d.Builders[1].Counts || !strings.Contains(d.Builders[1].Why, "substituted") {
		t.Errorf("a substituted builder counted: %+v", d)
	}
}

// TestCopiedRecord: a record copied from another with its builder id
// edited is the same build, and verify says the pair proves nothing.
func TestCopiedRecord(t *testing.T) {
	nixtest.Require(t)
	path := t.TempDir() + "/a.json"
	args := append(append([]string{"build", "-f", nixtest.File("hello.nix"), "-A", "image", "--store", nixtest.NewStore(t)}, offline()...), "--record", path)
	if code, _, stderr := nixdock(t, args...); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	rec, err := record.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	rec.Builder.ID = "another-runner"
	copied := t.TempDir() + "/b.json"
	if err := record.Write(copied, rec); err != nil {
		t.Fatal(err)
	}
	code, out, _ := nixdock(t, "verify", path, copied)
	if code != 1 || !strings.Contains(out, "not proven") || !strings.Contains(out, "a copied record") {
		t.Errorf("verify of a record and its edited copy: exit %d\n%s", code, out)
	}
}
