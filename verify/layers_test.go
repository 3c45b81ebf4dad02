package verify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/testimage"
)

// tarBytes is a layer of regular files, NAME and content.
func tarBytes(t *testing.T, files [][2]string) []byte {
	t.Helper()
	var entries []testimage.Entry
	for _, f := range files {
		entries = append(entries, testimage.File(f[0], f[1]))
	}
	return testimage.Layer(t, entries...)
}

// TestOutOfStepBudget checks that entries matched out of step give their
// heads back to the budget: only the samples of the reported files stay
// counted.
func TestOutOfStepBudget(t *testing.T) {
	a := tarBytes(t, [][2]string{{"x", "same"}, {"y", "one"}, {"z", "equal"}})
	b := tarBytes(t, [][2]string{{"z", "equal"}, {"y", "two"}, {"x", "same"}})
	const total = 1 << 10
	bud := newBudget(total)
	td, err := diffTars(bytes.NewReader(a), bytes.NewReader(b), tarOptions{HeadCap: 64, Budget: total}, bud)
	if err != nil {
		t.Fatal(err)
	}
	defer td.close()
	kept := 0
	for _, f := range td.files {
		kept += len(f.SampleA) + len(f.SampleB)
	}
	if kept != len("one")+len("two") {
		t.Errorf("kept %d sample bytes, want the contents of y: %+v", kept, td.files)
	}
	if bud.left != total-kept {
		t.Errorf("budget left %d, want %d (%d kept): matched entries leaked their heads", bud.left, total-kept, kept)
	}
}

// TestDiffConfigsHashed: the config diff that holds A as hashes finds
// changed, added, removed and repeated fields with both values, and counts
// what it does not keep.
func TestDiffConfigsHashed(t *testing.T) {
	a := []byte(`{"created":"1970-01-01T00:00:01Z","config":{"Labels":{"same":"1","changed":"a","gone":"x","empty":""},"Env":["A=1"]}}`)
	b := []byte(`{"created":"1970-01-01T00:00:02Z","config":{"Labels":{"same":"1","changed":"b","new":"y","empty":"now","changed":"c"},"Env":["A=1","B=2"]}}`)
	cd, err := diffConfigs(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range cd.diffs {
		got = append(got, d.Field+"="+d.A+">"+d.B)
	}
	want := []string{
		"config.Env[1]=(absent)>B=2",
		"config.Labels.changed=a>b",
		"config.Labels.changed=(absent)>c",
		"config.Labels.empty=>now",
		"config.Labels.gone=x>(absent)",
		"config.Labels.new=(absent)>y",
		"created=1970-01-01T00:00:01Z>1970-01-01T00:00:02Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diffs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !cd.created || !cd.own {
		t.Errorf("created %v own %v, want both", cd.created, cd.own)
	}
	old := maxConfigDiffs
	maxConfigDiffs = 3
	defer func() { maxConfigDiffs = old }()
	cd, err = diffConfigs(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(cd.diffs) != 3 || cd.omitted != 4 || cd.diffs[0].Field != "config.Env[1]" {
		t.Errorf("kept %d (first %q), omitted %d; want the first 3 and 4 counted", len(cd.diffs), cd.diffs[0].Field, cd.omitted)
	}
}
