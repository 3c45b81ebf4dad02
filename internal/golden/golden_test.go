package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestCheck(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.golden")
	Check(t, p, []byte("one"), true)
	if data, _ := os.ReadFile(p); string(data) != "one" {
		t.Fatalf("update wrote %q", data)
	}
	r := &recorder{TB: t}
	Check(r, p, []byte("one"), false)
	if len(r.errors) != 0 {
		t.Errorf("equal output reported: %v", r.errors)
	}
	Check(r, p, []byte("two"), false)
	if len(r.errors) != 1 {
		t.Errorf("differing output not reported: %v", r.errors)
	}
}
