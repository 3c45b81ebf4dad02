package reproduce_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/reproduce"
)

// With a real binary cache (a file:// store holding greeting-data), both
// builds substitute greeting-data and build the rest: the report must say
// which derivations were built twice and which paths were substituted.
func TestReportsWhatWasSubstituted(t *testing.T) {
	nixtest.Require(t)
	ctx := context.Background()
	nx := nixtest.Nix(t, nixtest.NewStore(t))
	data, err := nx.Build(ctx, record.Installable{File: nixtest.File("hello.nix"), Attr: "greetingData"})
	if err != nil {
		t.Fatal(err)
	}
	cache := "file://" + filepath.Join(t.TempDir(), "cache")
	cp := exec.Command("nix", "--extra-experimental-features", "nix-command", "copy",
		"--store", nx.Store, "--to", cache, data.OutPath)
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("nix copy to %s: %v: %s", cache, err, out)
	}

	res := run(t, "hello.nix", "image", func(o *reproduce.Options) {
		o.NixOptions = []nix.Option{
			{Name: "substituters", Value: cache},
			{Name: "require-sigs", Value: "false"},
			{Name: "sandbox-paths", Value: "/bin /usr /lib /lib64"},
		}
	})
	info := res.Report.Reproduce
	if !res.Report.Reproducible {
		t.Fatalf("not reproducible: %s", res.Report.Verdict)
	}
	if len(info.Substituted) != 1 || info.Substituted[0] != data.OutPath {
		t.Errorf("substituted = %v, want [%s]", info.Substituted, data.OutPath)
	}
	for _, drv := range info.BuiltTwice {
		if strings.HasSuffix(drv, "-greeting-data-1.0.drv") {
			t.Errorf("greeting-data listed as built twice, but it came from the cache: %v", info.BuiltTwice)
		}
	}
	if len(info.BuiltTwice) != 2 {
		t.Errorf("built twice = %v, want hello and the image", info.BuiltTwice)
	}
}
