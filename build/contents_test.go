package build_test

import (
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
)

// A .tar.gz image hides its references from Nix; the record's closure must
// still list the store paths inside it (from the layers), with derivers.
func TestCompressedImageClosureComesFromItsLayers(t *testing.T) {
	res := nixtest.Build(t, "", "hello.nix", "imageGz")
	var names []string
	for _, pi := range res.Record.Closure {
		names = append(names, pi.Path)
		if strings.HasSuffix(pi.Path, "-hello-2.12.1") && !strings.HasSuffix(pi.Deriver, "-hello-2.12.1.drv") {
			t.Errorf("hello's deriver = %q", pi.Deriver)
		}
	}
	joined := strings.Join(names, " ")
	for _, want := range []string{"-hello-2.12.1", "-greeting-data-1.0", "-hello.tar.gz"} {
		if !strings.Contains(joined, want) {
			t.Errorf("closure %v lacks *%s", names, want)
		}
	}
}
