package nix_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/nixtest"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// TestCheckCommandIsWhatRan: the command Check reports (reproduce's
// "confirmed by") is CheckCommand's text, every --store and --option
// included, and a failed call's error names the same quoted command.
func TestCheckCommandIsWhatRan(t *testing.T) {
	n := nix.Runner{Store: "/tmp/s", Options: []nix.Option{{Name: "substituters", Value: ""}}}
	want := "nix-store --store /tmp/s --option substituters '' --realise --check '/nix/store/x y.drv'"
	if got := n.CheckCommand("/nix/store/x y.drv").String(); got != want {
		t.Errorf("CheckCommand = %s, want %s", got, want)
	}
	n.Bin = "/opt/nix/bin/nix"
	if got := n.DeriverCommand("/nix/store/p").Args[0]; got != "/opt/nix/bin/nix-store" {
		t.Errorf("DeriverCommand runs %s, want the nix-store next to Bin", got)
	}

	nixtest.Require(t)
	ctx := context.Background()
	real := nixtest.Nix(t, nixtest.NewStore(t))
	res, err := real.Build(ctx, record.Installable{File: nixtest.File("hello.nix"), Attr: "greetingData"})
	if err != nil {
		t.Fatal(err)
	}
	check, err := real.Check(ctx, res.DrvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !check.Deterministic || check.Command != real.CheckCommand(res.DrvPath).String() || !strings.Contains(check.Command, "--store "+real.Store) {
		t.Errorf("Check = %+v, want deterministic by %s", check, real.CheckCommand(res.DrvPath))
	}
	_, err = real.Check(ctx, "/nix/store/00000000000000000000000000000000-missing.drv")
	var nerr *nix.Error
	if !errors.As(err, &nerr) || !strings.HasPrefix(err.Error(), real.CheckCommand("/nix/store/00000000000000000000000000000000-missing.drv").String()+" failed: ") {
		t.Errorf("Check of a missing drv: %v, want an error naming the command that ran", err)
	}
}
