package verify

import (
	"archive/tar"
	"bytes"
	"testing"
)

func tarBytes(t *testing.T, files [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0o444, Size: int64(len(f[1]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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
