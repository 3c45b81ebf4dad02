package cli

import (
	"strings"

	"github.com/nixdock/nixdock-action/internal/childenv"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
	"github.com/spf13/pflag"
)

// nixFlags are the flags of every command that runs Nix: the installable and
// the store and options passed to Nix.
type nixFlags struct {
	file       string
	attr       string
	argstr     []string
	store      string
	nixOptions []string
	nixEnv     []string
}

func (f *nixFlags) bind(fs *pflag.FlagSet) {
	fs.StringVarP(&f.file, "file", "f", "", "build from a Nix file (classic form, with -A)")
	fs.StringVarP(&f.attr, "attr", "A", "", "attribute of the file to build")
	fs.StringArrayVar(&f.argstr, "argstr", nil, "NAME=VALUE passed to the file as --argstr (repeatable)")
	f.bindNix(fs)
}

// bindNix binds only the Nix store and option flags.
func (f *nixFlags) bindNix(fs *pflag.FlagSet) {
	fs.StringVar(&f.store, "store", "", "Nix store URL, such as a chroot store /tmp/storeB")
	fs.StringArrayVar(&f.nixOptions, "nix-option", nil, "NAME=VALUE passed to Nix as --option NAME VALUE (repeatable; VALUE may be empty)")
	fs.StringArrayVar(&f.nixEnv, "nix-env", nil, "NAME of a variable Nix may see although it looks like a secret (*_TOKEN, *_PASSWORD, INPUT_*, COSIGN_*...; repeatable)")
}

// passEnv checks the --nix-env names.
func (f *nixFlags) passEnv() ([]string, error) {
	for _, n := range f.nixEnv {
		if err := childenv.CheckName(n); err != nil {
			return nil, usageError("--nix-env: %s", err)
		}
	}
	return f.nixEnv, nil
}

// installable builds the Installable from the flags and the positional
// argument (a flake reference), or returns a usage error.
func (f *nixFlags) installable(args []string) (record.Installable, error) {
	inst := record.Installable{File: f.file, Attr: f.attr}
	if len(args) > 0 {
		inst.Flake = args[0]
	}
	for _, kv := range f.argstr {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return inst, usageError("--argstr %q: want NAME=VALUE", kv)
		}
		if inst.ArgStr == nil {
			inst.ArgStr = map[string]string{}
		}
		inst.ArgStr[k] = v
	}
	if err := inst.Validate(); err != nil {
		return inst, usageError("%s", err)
	}
	return inst, nil
}

// nixOpts parses --nix-option values.
func (f *nixFlags) nixOpts() ([]nix.Option, error) {
	var opts []nix.Option
	for _, s := range f.nixOptions {
		o, err := nix.ParseOption(s)
		if err != nil {
			return nil, usageError("--nix-option %s", err)
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// nix returns the Nix runner the flags describe, logging to the UI.
func (f *nixFlags) nix(a *app) (nix.Runner, error) {
	opts, err := f.nixOpts()
	if err != nil {
		return nix.Runner{}, err
	}
	env, err := f.passEnv()
	if err != nil {
		return nix.Runner{}, err
	}
	return nix.Runner{Store: f.store, Options: opts, Log: a.ui.logWriter(), PassEnv: env}, nil
}
