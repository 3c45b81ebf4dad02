package verify

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/record"
)

// drvDiffer walks two derivation graphs from their roots, as nix-diff does:
// inputs are paired by name, and pairs with different paths are compared
// field by field and then recursed into.
type drvDiffer struct {
	a, b map[string]record.Derivation
	seen map[[2]string]bool
	out  []InputDifference
}

// diffInputs explains how the image derivations of two records differ.
func diffInputs(a, b *record.Record) []InputDifference {
	d := &drvDiffer{a: a.Derivations, b: b.Derivations, seen: map[[2]string]bool{}}
	d.walk(a.DrvPath, b.DrvPath)
	if d.out == nil {
		return []InputDifference{}
	}
	return d.out
}

// drvName is the name of a .drv path: /nix/store/<hash>-hello-2.12.1.drv is
// hello-2.12.1.
func drvName(p string) string {
	return strings.TrimSuffix(storepath.Name(p), ".drv")
}

func (d *drvDiffer) walk(pa, pb string) {
	key := [2]string{pa, pb}
	if pa == pb || d.seen[key] {
		return
	}
	d.seen[key] = true
	name := drvName(pa)
	add := func(diff InputDifference) {
		diff.Derivation, diff.DrvA, diff.DrvB = name, pa, pb
		d.out = append(d.out, diff)
	}
	da, oka := d.a[pa]
	db, okb := d.b[pb]
	if !oka || !okb {
		add(InputDifference{Field: "missing", A: presentOr(oka, pa), B: presentOr(okb, pb)})
		return
	}
	subst := map[string]string{pb: pa}
	substOutputs(subst, da.Outputs, db.Outputs)
	children := d.inputDrvs(da, db, subst, add)
	r := replacerOf(subst)
	compare := func(field, nm, va, vb string) {
		if va == vb {
			return
		}
		add(InputDifference{Field: field, Name: nm, A: va, B: vb, ViaInput: r.Replace(vb) == va})
	}
	compare("builder", "", da.Builder, db.Builder)
	compare("system", "", da.System, db.System)
	d.args(da.Args, db.Args, compare)
	for _, k := range unionKeys(da.Env, db.Env) {
		va, oka := da.Env[k]
		vb, okb := db.Env[k]
		if oka && okb {
			compare("env", k, va, vb)
		} else {
			add(InputDifference{Field: "env", Name: k, A: presentOr(oka, va), B: presentOr(okb, vb)})
		}
	}
	d.srcs(da.InputSrcs, db.InputSrcs, add)
	for _, k := range unionKeys(da.Outputs, db.Outputs) {
		if _, ok := da.Outputs[k]; !ok {
			add(InputDifference{Field: "outputs", Name: k, A: "(absent)", B: db.Outputs[k]})
		} else if _, ok := db.Outputs[k]; !ok {
			add(InputDifference{Field: "outputs", Name: k, A: da.Outputs[k], B: "(absent)"})
		}
	}
	for _, c := range children {
		d.walk(c[0], c[1])
	}
}

func presentOr(ok bool, v string) string {
	if ok {
		return v
	}
	return "(absent)"
}

// inputDrvs pairs the input derivations by name, reports the unpaired and
// returns the pairs that differ, adding their outputs to subst.
func (d *drvDiffer) inputDrvs(da, db record.Derivation, subst map[string]string, add func(InputDifference)) [][2]string {
	na, nb := namesOf(da.InputDrvs), namesOf(db.InputDrvs)
	var children [][2]string
	for _, n := range unionKeys(na, nb) {
		pa, oka := na[n]
		pb, okb := nb[n]
		switch {
		case !oka:
			add(InputDifference{Field: "inputDrvs", Name: n, A: "(absent)", B: pb})
		case !okb:
			add(InputDifference{Field: "inputDrvs", Name: n, A: pa, B: "(absent)"})
		default:
			oa, ob := strings.Join(da.InputDrvs[pa], ","), strings.Join(db.InputDrvs[pb], ",")
			if oa != ob {
				add(InputDifference{Field: "inputDrvs", Name: n + " outputs", A: oa, B: ob})
			}
			if pa != pb {
				add(InputDifference{Field: "inputDrvs", Name: n, A: pa, B: pb})
				subst[pb] = pa
				substOutputs(subst, d.a[pa].Outputs, d.b[pb].Outputs)
				children = append(children, [2]string{pa, pb})
			}
		}
	}
	return children
}

func (d *drvDiffer) args(a, b []string, compare func(field, name, va, vb string)) {
	for i := 0; i < max(len(a), len(b)); i++ {
		va, vb := "(absent)", "(absent)"
		if i < len(a) {
			va = a[i]
		}
		if i < len(b) {
			vb = b[i]
		}
		compare("args", strconv.Itoa(i), va, vb)
	}
}

// srcs compares input sources by name (the part after the hash).
func (d *drvDiffer) srcs(a, b []string, add func(InputDifference)) {
	na, nb := map[string]string{}, map[string]string{}
	for _, p := range a {
		na[storepath.Name(p)] = p
	}
	for _, p := range b {
		nb[storepath.Name(p)] = p
	}
	for _, n := range unionKeys(na, nb) {
		pa, oka := na[n]
		pb, okb := nb[n]
		if pa != pb {
			add(InputDifference{Field: "inputSrcs", Name: n, A: presentOr(oka, pa), B: presentOr(okb, pb)})
		}
	}
}

func namesOf(inputs map[string][]string) map[string]string {
	out := map[string]string{}
	for p := range inputs {
		n := drvName(p)
		if _, dup := out[n]; dup {
			n = storepath.Name(p) // two inputs of one name: keep them apart
		}
		out[n] = p
	}
	return out
}

func substOutputs(subst map[string]string, a, b map[string]string) {
	for k, pb := range b {
		if pa, ok := a[k]; ok && pa != pb && pb != "" {
			subst[pb] = pa
		}
	}
}

// replacerOf maps B paths to A paths, longest first so that no path is
// replaced inside a longer one.
func replacerOf(subst map[string]string) *strings.Replacer {
	keys := make([]string, 0, len(subst))
	for k := range subst {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k, subst[k])
	}
	return strings.NewReplacer(pairs...)
}

// changedDerivations are the derivations that differ on their own, not
// only through their inputs: what a user changed.
func changedDerivations(diffs []InputDifference) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range diffs {
		if d.ViaInput || (d.Field == "inputDrvs" && d.A != "(absent)" && d.B != "(absent)" && !strings.HasSuffix(d.Name, " outputs")) {
			continue
		}
		label := fmt.Sprintf("%s (%s)", d.Derivation, fieldLabel(d))
		if !seen[label] {
			seen[label] = true
			out = append(out, label)
		}
	}
	return out
}

func fieldLabel(d InputDifference) string {
	switch d.Field {
	case "env":
		return "env " + d.Name
	case "inputDrvs", "inputSrcs", "outputs":
		return d.Field + " " + d.Name
	}
	return d.Field
}
