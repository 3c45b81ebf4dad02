package nix

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/record"
)

// rawDerivation covers `nix show-derivation` (Nix 2.8: inputDrvs values are
// output lists, outputs {"out": {"path": ...}}) and `nix derivation show`
// (Nix 2.18+: inputDrvs values are {"outputs": [...], "dynamicOutputs": {}};
// newer versions add "name" and may drop the store directory from paths).
type rawDerivation struct {
	Name      string                     `json:"name"`
	System    string                     `json:"system"`
	Builder   string                     `json:"builder"`
	Args      []string                   `json:"args"`
	Outputs   map[string]json.RawMessage `json:"outputs"`
	InputDrvs map[string]json.RawMessage `json:"inputDrvs"`
	InputSrcs []string                   `json:"inputSrcs"`
	Env       map[string]string          `json:"env"`
	// Nix 2.32+ nests inputs as {"srcs": [...], "drvs": {...}}.
	Inputs *struct {
		Srcs []string                   `json:"srcs"`
		Drvs map[string]json.RawMessage `json:"drvs"`
	} `json:"inputs"`
}

// ParseDerivations parses the JSON object keyed by .drv path that
// `nix show-derivation` and `nix derivation show` print.
//
// Nix 2.34 and later wrap the map as {"derivations": {...}, "version": 4};
// no .drv path is named "derivations", so the wrapper is unambiguous.
func ParseDerivations(data []byte) (map[string]record.Derivation, error) {
	var wrapper struct {
		Derivations json.RawMessage `json:"derivations"`
		Version     json.RawMessage `json:"version"`
	}
	if json.Unmarshal(data, &wrapper) == nil && wrapper.Derivations != nil && wrapper.Version != nil {
		data = wrapper.Derivations
	}
	var raw map[string]rawDerivation
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("reading derivation JSON: %w", err)
	}
	out := make(map[string]record.Derivation, len(raw))
	for path, r := range raw {
		d, err := r.normalize()
		if err != nil {
			return nil, fmt.Errorf("derivation %s: %w", path, err)
		}
		out[absStorePath(path)] = d
	}
	return out, nil
}

func (r rawDerivation) normalize() (record.Derivation, error) {
	d := record.Derivation{
		Name: r.Name, System: r.System, Builder: r.Builder, Args: r.Args,
		Outputs: map[string]string{}, InputDrvs: map[string][]string{},
		InputSrcs: []string{}, Env: r.Env,
	}
	if d.Args == nil {
		d.Args = []string{}
	}
	if d.Env == nil {
		d.Env = map[string]string{}
	}
	if d.Name == "" {
		d.Name = r.Env["name"]
	}
	for name, msg := range r.Outputs {
		var o struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(msg, &o); err != nil {
			return d, fmt.Errorf("output %s: %w", name, err)
		}
		if o.Path == "" {
			// Content-addressed and newer formats may omit the path; the
			// environment still names it.
			o.Path = r.Env[name]
		}
		d.Outputs[name] = absStorePath(o.Path)
	}
	srcs, drvs := r.InputSrcs, r.InputDrvs
	if r.Inputs != nil {
		srcs, drvs = r.Inputs.Srcs, r.Inputs.Drvs
	}
	for _, s := range srcs {
		d.InputSrcs = append(d.InputSrcs, absStorePath(s))
	}
	sort.Strings(d.InputSrcs)
	for drv, msg := range drvs {
		outs, err := parseInputOutputs(msg)
		if err != nil {
			return d, fmt.Errorf("input %s: %w", drv, err)
		}
		d.InputDrvs[absStorePath(drv)] = outs
	}
	return d, nil
}

// parseInputOutputs reads an inputDrvs value: ["out"] (Nix 2.8) or
// {"outputs": ["out"], "dynamicOutputs": {}} (Nix 2.18+).
func parseInputOutputs(msg json.RawMessage) ([]string, error) {
	var outs []string
	if strings.HasPrefix(strings.TrimSpace(string(msg)), "[") {
		if err := json.Unmarshal(msg, &outs); err != nil {
			return nil, err
		}
	} else {
		var o struct {
			Outputs []string `json:"outputs"`
		}
		if err := json.Unmarshal(msg, &o); err != nil {
			return nil, err
		}
		outs = o.Outputs
	}
	if outs == nil {
		outs = []string{}
	}
	sort.Strings(outs)
	return outs, nil
}
