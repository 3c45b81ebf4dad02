package verify

import (
	"bytes"
	"context"
	"testing"

	"github.com/nixdock/nixdock-action/record"
)

// FuzzTarDiff feeds the tar differ two arbitrary byte streams: it must
// never panic, and a stream compared with itself has no differences.
func FuzzTarDiff(f *testing.F) {
	f.Add([]byte{}, []byte{})
	maxSparse = 1 << 20 // keep each run short; the cap itself is what is tested
	f.Fuzz(func(t *testing.T, a, b []byte) {
		opts := tarOptions{HeadCap: 64, Budget: 4096}
		td, err := diffTars(bytes.NewReader(a), bytes.NewReader(b), opts, nil)
		if err == nil {
			td.close()
			for i := range td.files {
				fieldCauses(&td.files[i])
			}
		}
		self, err := diffTars(bytes.NewReader(a), bytes.NewReader(a), opts, nil)
		if err != nil {
			return
		}
		defer self.close()
		if len(self.files) != 0 || len(self.onlyA) != 0 || len(self.onlyB) != 0 {
			t.Fatalf("a stream differs from itself: %+v", self.files)
		}
	})
}

// FuzzReportRecords compares arbitrary record pairs: a pair that parses
// must give a report, rendered the same way twice.
func FuzzReportRecords(f *testing.F) {
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ra, err := record.Parse(a)
		if err != nil {
			return
		}
		rb, err := record.Parse(b)
		if err != nil {
			return
		}
		rep, err := Records(context.Background(), []*record.Record{ra, rb}, Options{})
		if err != nil {
			t.Fatalf("records that parse must compare: %v", err)
		}
		var j1, j2, txt, md bytes.Buffer
		if err := rep.WriteJSON(&j1); err != nil {
			t.Fatal(err)
		}
		rep2, _ := Records(context.Background(), []*record.Record{ra, rb}, Options{})
		rep2.WriteJSON(&j2)
		if !bytes.Equal(j1.Bytes(), j2.Bytes()) {
			t.Fatal("the same records gave two different reports")
		}
		if rep.Reproducible != (ra.DrvPath == rb.DrvPath && rep.Verdict[:3] == "rep") {
			t.Fatalf("reproducible=%v but verdict %q", rep.Reproducible, rep.Verdict)
		}
		rep.WriteText(&txt, TextOptions{Color: true})
		rep.WriteMarkdown(&md)
	})
}

// FuzzInferContent feeds cause inference two arbitrary contents (gzip, zip
// and binaries are opened): it must never panic, and always names a cause
// when they differ.
func FuzzInferContent(f *testing.F) {
	f.Add([]byte("built at 10:00:00\n"), []byte("built at 10:07:13\n"), true)
	f.Add([]byte("\x1f\x8b\x08\x00\x01\x00\x00\x00\x00\x03"), []byte("\x1f\x8b\x08\x00\x02\x00\x00\x00\x00\x03"), true)
	f.Add([]byte("PK\x03\x04\x14\x00"), []byte("PK\x03\x04\x14\x01"), true)
	f.Add([]byte("\x7fELF\x00Dec  6 2026\x0008:13:53\x00"), []byte("\x7fELF\x00Dec  6 2026\x0008:14:12\x00"), false)
	f.Fuzz(func(t *testing.T, a, b []byte, whole bool) {
		if len(a) > 1<<16 || len(b) > 1<<16 {
			return
		}
		causes, _ := inferContent(a, b, whole)
		if !bytes.Equal(a, b) && len(causes) == 0 {
			t.Fatalf("no cause for %q vs %q", a, b)
		}
	})
}
