package verify_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/verify"
)

// TestFileEvidence checks that each planted file carries its own cause and
// excerpt, bounded like Files, and that the text shows one line per file.
func TestFileEvidence(t *testing.T) {
	want := map[string]string{
		"/bin/app": verify.CauseMode, "/etc/owned": verify.CauseOwner,
		"/share/app/build-info": verify.CauseTimestamp, "/share/app/debug": verify.CauseBuildPath,
		"/share/app/files.txt": verify.CauseOrder, "/share/app/seed": verify.CauseRandom,
	}
	excerpt := map[string]string{"/share/app/build-info": "10:07:13", "/share/app/seed": "4ecd20a7", "/bin/app": "0755"}
	var app verify.Culprit
	for _, c := range syntheticReports(t)["differs"].Culprits {
		if c.StorePath == appPath {
			app = c
		}
	}
	if len(app.FileDiffs) != len(want) || len(app.FileDiffs) != len(app.Files) {
		t.Fatalf("want one file diff per file (%d), got %+v", len(want), app.FileDiffs)
	}
	for i, f := range app.FileDiffs {
		rel := strings.TrimPrefix(f.Path, appPath)
		if f.Path != app.Files[i] || strings.Join(f.Causes, ",") != want[rel] {
			t.Errorf("file %d: %+v, want %s with causes [%s]", i, f, app.Files[i], want[rel])
		}
		if !strings.Contains(f.Evidence, excerpt[rel]) || f.Evidence == "" {
			t.Errorf("%s: evidence %q lacks %q", rel, f.Evidence, excerpt[rel])
		}
	}
	if app.Evidence != "bin/app: "+app.FileDiffs[0].Evidence {
		t.Errorf("Evidence %q should stay the first file's", app.Evidence)
	}

	// Bounded like Files.
	rep, err := verify.Records(context.Background(), []*record.Record{recordFor(t, "builder-a", imgDrv, false), recordFor(t, "builder-b", imgDrv, true)},
		verify.Options{MaxFiles: 2, Images: []*image.Image{syntheticImage(t, false), syntheticImage(t, true)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Culprits {
		if c.StorePath == appPath && (len(c.FileDiffs) != 2 || len(c.Files) != 2 || c.MoreFiles != 4) {
			t.Errorf("MaxFiles 2: files %v, file diffs %d, more %d", c.Files, len(c.FileDiffs), c.MoreFiles)
		}
	}
	var txt bytes.Buffer
	rep.WriteText(&txt, verify.TextOptions{})
	if !strings.Contains(txt.String(), appPath+"/bin/app  [mode] mode 0555 vs 0755\n") {
		t.Errorf("text lacks the per-file line:\n%s", txt.String())
	}
}

// TestConfirmedFirstLine checks that a culprit confirmed or refuted by Nix
// says so on its first line.
func TestConfirmedFirstLine(t *testing.T) {
	rep := syntheticReports(t)["differs"]
	yes, no := true, false
	rep.Culprits[0].Confirmed, rep.Culprits[0].ConfirmedBy = &yes, "nix-build --check A"
	rep.Culprits[2].Confirmed, rep.Culprits[2].ConfirmedBy = &no, "nix-build --check C"
	var txt bytes.Buffer
	if err := rep.WriteText(&txt, verify.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1. " + appPath + "  [timestamp, random, order, build-path, mode, owner] confirmed by Nix\n",
		"2. " + imgPath + "  [config, timestamp]\n",
		"3. " + sumPath + "  [consequence of " + appPath + "] refuted by Nix\n",
		"     confirmed by nix-build --check A\n", "     refuted by nix-build --check C\n",
	} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}
}

// withID is rec as another build by builder id made it: same image, a
// build of its own (registered at another time).
func withID(rec *record.Record, id string) *record.Record {
	r := *rec
	r.Builder.ID = id
	if r.Origin != nil {
		r.Origin = newOrigin(r.Origin.Host)
	}
	return &r
}

func culpritAt(t *testing.T, rep *verify.Report, storePath string) verify.Culprit {
	t.Helper()
	for _, c := range rep.Culprits {
		if c.StorePath == storePath {
			return c
		}
	}
	t.Fatalf("no culprit %s in %+v", storePath, rep.Culprits)
	return verify.Culprit{}
}

// TestSyntheticMajority gives three records, the odd one first: the two
// that agree are the reference, and the odd one is diffed against them.
func TestSyntheticMajority(t *testing.T) {
	a, b := recordFor(t, "builder-a", imgDrv, false), recordFor(t, "builder-b", imgDrv, true)
	c := withID(a, "builder-c")
	rep, err := verify.Records(context.Background(), []*record.Record{b, a, c},
		verify.Options{Images: []*image.Image{syntheticImage(t, true), syntheticImage(t, false), syntheticImage(t, false)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 2 || strings.Join(rep.Groups[0].Builders, ",") != "builder-a,builder-c" || !rep.Groups[0].Reference ||
		strings.Join(rep.Groups[1].Builders, ",") != "builder-b" || rep.Groups[1].Reference {
		t.Fatalf("groups %+v, want the reference builder-a, builder-c then builder-b", rep.Groups)
	}
	if !strings.HasSuffix(rep.Verdict, "; builder-b disagrees with the majority (builder-a, builder-c)") {
		t.Errorf("verdict %q should name builder-b against the majority", rep.Verdict)
	}
	app := culpritAt(t, rep, appPath)
	if strings.Join(app.Builders, ",") != "builder-b" || len(app.FileDiffs) != 6 {
		t.Errorf("app culprit: builders %v, %d files", app.Builders, len(app.FileDiffs))
	}
	// A is the reference (builder-a's image), B builder-b's.
	for _, d := range rep.Differences {
		if d.Builder != "builder-b" {
			t.Errorf("difference %+v should name builder-b", d)
		}
		if d.Path == appPath+"/bin/app" && d.Field == "mode" && (d.A != "0555" || d.B != "0755") {
			t.Errorf("A should be the reference: %+v", d)
		}
	}
	var txt, md bytes.Buffer
	rep.WriteText(&txt, verify.TextOptions{})
	rep.WriteMarkdown(&md)
	for _, want := range []string{"differs on: builder-b\n", "  builder-a, builder-c  (reference)\n", "(builder-b)\n"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}
	if !strings.Contains(md.String(), "<br>differs on builder-b |") {
		t.Errorf("markdown lacks the culprit's builders:\n%s", md.String())
	}
	// Two records: no groups, no builders named (the report stays as it was).
	two := syntheticReports(t)["differs"]
	if two.Groups != nil || culpritAt(t, two, appPath).Builders != nil || two.Differences[0].Builder != "" {
		t.Errorf("two records should not name groups or builders")
	}
}

// TestThreeStores builds the date image in three stores: three different
// images, no majority, and every other build is diffed against the first.
func TestThreeStores(t *testing.T) {
	a := shared.build(t, "a", "unreproducible.nix", "date")
	b := shared.build(t, "b", "unreproducible.nix", "date")
	c := shared.build(t, "c", "unreproducible.nix", "date")
	recs := []*record.Record{withID(a.Record, "store-a"), withID(b.Record, "store-b"), withID(c.Record, "store-c")}
	rep, err := verify.Records(context.Background(), recs, verify.Options{Images: []*image.Image{a.Image, b.Image, c.Image}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 3 || !rep.Groups[0].Reference || rep.Groups[0].Builders[0] != "store-a" {
		t.Fatalf("want three groups, store-a the reference: %+v", rep.Groups)
	}
	stamp := storePathNamed(t, a.Record, "-stamp-1.0")
	if !strings.Contains(rep.Verdict, "root cause "+stamp.Path) || !strings.HasSuffix(rep.Verdict, "; no majority: 3 different images among 3 builds, compared with store-a") {
		t.Errorf("verdict %q", rep.Verdict)
	}
	root := culpritAt(t, rep, stamp.Path)
	if strings.Join(root.Builders, ",") != "store-b,store-c" || !contains(root.Causes, verify.CauseTimestamp) || len(root.FileDiffs) != 1 {
		t.Errorf("stamp culprit: %+v", root)
	}
	seen := map[string]bool{}
	for _, d := range rep.Differences {
		seen[d.Builder] = true
	}
	if !seen["store-b"] || !seen["store-c"] || len(seen) != 2 {
		t.Errorf("differences should be with store-b and store-c: %v", seen)
	}
}

// TestMajorityOfStores writes the record of one store build twice (two
// builders that agree) and one of another store: the other disagrees.
func TestMajorityOfStores(t *testing.T) {
	a := shared.build(t, "a", "unreproducible.nix", "date")
	b := shared.build(t, "b", "unreproducible.nix", "date")
	recs := []*record.Record{withID(b.Record, "odd"), withID(a.Record, "one"), withID(a.Record, "two")}
	// Only the second member of the majority has its image at hand: it
	// stands for the reference.
	rep, err := verify.Records(context.Background(), recs, verify.Options{Images: []*image.Image{b.Image, nil, a.Image}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(rep.Verdict, "; odd disagrees with the majority (one, two)") {
		t.Errorf("verdict %q", rep.Verdict)
	}
	stamp := storePathNamed(t, a.Record, "-stamp-1.0")
	root := culpritAt(t, rep, stamp.Path)
	if strings.Join(root.Builders, ",") != "odd" || root.FileDiffs[0].Causes[0] != verify.CauseTimestamp {
		t.Errorf("stamp culprit: %+v", root)
	}
	// A is the reference: the stamp of store a's build.
	for _, d := range rep.Differences {
		if d.Path == stamp.Path+"/share/stamp/build-info" && d.Field == "content" && d.Builder != "odd" {
			t.Errorf("difference %+v should be with odd", d)
		}
	}
	// Without images, the digests alone still name the groups.
	rep, err = verify.Records(context.Background(), recs, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Culprits) != 0 || !strings.Contains(rep.Verdict, "odd disagrees with the majority (one, two)") {
		t.Errorf("without images: %q, %d culprits", rep.Verdict, len(rep.Culprits))
	}
}
