package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/nixdock/nixdock-action/record"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/verify"
)

// A package that copies another's unreproducible file (cp -r
// ${stamp}/share/stamp $out/share): no reference, no store path in the
// bytes.
const (
	stampPath = "/nix/store/0s0s0s0s0s0s0s0s0s0s0s0s0s0s0s0s-stamp-1.0"
	copyPath  = "/nix/store/1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c-stamp-copy-1.0"
	stampDrv  = "/nix/store/2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d-stamp-1.0.drv"
	copyDrv   = "/nix/store/3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e-stamp-copy-1.0.drv"
)

func copyImage(t *testing.T, b bool) *image.Image {
	t.Helper()
	info := "built at 2024-05-01 10:00:00.123 UTC\n"
	if b {
		info = "built at 2024-05-01 10:07:13.456 UTC\n"
	}
	stamp := layerOf(t, []tentry{dir(stampPath), dir(stampPath + "/share"), dir(stampPath + "/share/stamp"),
		file(stampPath+"/share/stamp/build-info", info)})
	cp := layerOf(t, []tentry{dir(copyPath), dir(copyPath + "/share"), dir(copyPath + "/share/stamp"),
		file(copyPath+"/share/stamp/build-info", info)})
	img, err := mutate.AppendLayers(empty.Image, stamp, cp)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Created = v1.Time{Time: time.Unix(1, 0).UTC()}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	return &image.Image{Image: img, Form: image.FormArchive, Source: map[bool]string{false: "a.tar", true: "b.tar"}[b]}
}

func copyRecord(id string, graph bool) *record.Record {
	r := syntheticRecord(id, imgDrv)
	r.Closure = []record.PathInfo{
		{Path: stampPath, NarHash: fakeDigest("s" + id), References: []string{}, Deriver: stampDrv},
		{Path: copyPath, NarHash: fakeDigest("c" + id), References: []string{}, Deriver: copyDrv},
	}
	if graph {
		drv := func(out string, inputs map[string][]string) record.Derivation {
			return record.Derivation{System: "x86_64-linux", Builder: "/bin/sh", Outputs: map[string]string{"out": out}, InputDrvs: inputs}
		}
		r.Derivations = map[string]record.Derivation{
			stampDrv: drv(stampPath, map[string][]string{}),
			copyDrv:  drv(copyPath, map[string][]string{stampDrv: {"out"}}),
			imgDrv:   drv(imgPath, map[string][]string{stampDrv: {"out"}, copyDrv: {"out"}}),
		}
	}
	return r
}

func rootsOf(rep *verify.Report) []string {
	var out []string
	for _, c := range rep.Culprits {
		if c.Root() {
			out = append(out, c.StorePath)
		}
	}
	return out
}

// Without Nix, the copied file, identical pair for pair in both culprits,
// is one root cause: stamp, whose name is in the file's path, is the
// likelier origin, and the report says Nix would confirm it.
func TestCopiedFilesAreOneRootCause(t *testing.T) {
	rep, err := verify.Images(context.Background(), copyImage(t, false), copyImage(t, true), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if roots := rootsOf(rep); len(roots) != 1 || roots[0] != stampPath {
		t.Fatalf("roots %v, want stamp alone; verdict %q", roots, rep.Verdict)
	}
	c := culpritAt(t, rep, copyPath)
	if c.ConsequenceOf != stampPath || !strings.Contains(c.ConsequenceWhy, "likelier origin is stamp-1.0") ||
		!strings.Contains(c.ConsequenceWhy, "nix-store --realise --check") {
		t.Errorf("copy: consequence of %q, %q", c.ConsequenceOf, c.ConsequenceWhy)
	}
	if !strings.HasPrefix(rep.Verdict, "not reproducible: root cause "+stampPath) || !strings.Contains(rep.Verdict, "1 consequence") {
		t.Errorf("verdict %q, want one root cause and its consequence", rep.Verdict)
	}
}

// With the derivation graph the records carry, the copy depends on stamp
// at build time: a consequence. A graph in which neither builds from the
// other leaves two root causes.
func TestCopiedFilesByBuildGraph(t *testing.T) {
	imgs := []*image.Image{copyImage(t, false), copyImage(t, true)}
	rep, err := verify.Records(context.Background(), []*record.Record{describing(t, copyRecord("a", true), imgs[0]), describing(t, copyRecord("b", true), imgs[1])}, verify.Options{Images: imgs})
	if err != nil {
		t.Fatal(err)
	}
	c := culpritAt(t, rep, copyPath)
	if c.ConsequenceOf != stampPath || !strings.Contains(c.ConsequenceWhy, "a build-time input") {
		t.Errorf("copy: consequence of %q, %q; want stamp, by the build graph", c.ConsequenceOf, c.ConsequenceWhy)
	}
	ra, rb := describing(t, copyRecord("a", true), imgs[0]), describing(t, copyRecord("b", true), imgs[1])
	for _, r := range []*record.Record{ra, rb} {
		d := r.Derivations[copyDrv]
		d.InputDrvs = map[string][]string{}
		r.Derivations[copyDrv] = d
	}
	rep, err = verify.Records(context.Background(), []*record.Record{ra, rb}, verify.Options{Images: imgs})
	if err != nil {
		t.Fatal(err)
	}
	if roots := rootsOf(rep); len(roots) != 2 {
		t.Errorf("independent builds: roots %v, want both", roots)
	}
}

// A culprit Nix refutes that depends at build time on one Nix confirms is
// a consequence, and the verdict counts one root cause.
func TestApplyChecksRefuted(t *testing.T) {
	ra, rb := copyRecord("a", true), copyRecord("b", true)
	for _, r := range []*record.Record{ra, rb} {
		d := r.Derivations[copyDrv]
		d.InputDrvs = map[string][]string{stampDrv: {"out"}}
		r.Derivations[copyDrv] = d
	}
	rep := &verify.Report{Verdict: "x", Culprits: []verify.Culprit{
		{StorePath: copyPath, DrvPath: copyDrv, Causes: []string{verify.CauseTimestamp}},
		{StorePath: stampPath, DrvPath: stampDrv, Causes: []string{verify.CauseTimestamp}},
	}}
	yes, no := true, false
	rep.Culprits[0].Confirmed, rep.Culprits[1].Confirmed = &no, &yes
	rep.Verdict = "not reproducible: 2 root causes: " + copyPath + " (timestamp); " + stampPath + " (timestamp)"
	rep.ApplyChecks([]*record.Record{ra, rb})
	if roots := rootsOf(rep); len(roots) != 1 || roots[0] != stampPath {
		t.Fatalf("roots %v, want stamp alone", roots)
	}
	if want := "not reproducible: root cause " + stampPath + " (timestamp); 1 consequence(s)"; rep.Verdict != want {
		t.Errorf("verdict %q, want %q", rep.Verdict, want)
	}
	if c := rep.Culprits[1]; c.StorePath != copyPath || !strings.Contains(c.ConsequenceWhy, "refuted") {
		t.Errorf("copy after the checks: %+v", c)
	}
}
