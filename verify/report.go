package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/record"
)

// Schema identifies reports; see docs/report.md.
const Schema = "nixdock.dev/report/v1"

// Report is the outcome of a comparison. Every field is documented in
// docs/report.md.
type Report struct {
	Schema string `json:"schema"`
	// Reproducible is true when the builds (or images) are bit-for-bit
	// identical in everything compared.
	Reproducible bool `json:"reproducible"`
	// Verdict is one sentence for people: the outcome and its main reason.
	Verdict string `json:"verdict"`
	// Agreement is the decision whether the records prove the image, with
	// each builder and why it counts or not (records only; agree.Decide).
	Agreement *agree.Decision `json:"agreement,omitempty"`
	// Inputs compares the image derivations (records only).
	Inputs *Inputs `json:"inputs,omitempty"`
	// Builders are the builds compared, in the order given.
	Builders []Builder `json:"builders"`
	// Groups are the builds that produced the same image, the reference
	// (the largest group) first; only with three or more records.
	Groups []Group `json:"groups,omitempty"`
	// Digests compares the digests of the builds, field by field.
	Digests []DigestComparison `json:"digests"`
	// Differences are every difference found, sorted.
	Differences []Difference `json:"differences"`
	// Truncated counts differences left out of Differences (see
	// Options.MaxDifferences); culprits still account for them.
	Truncated int `json:"truncated,omitempty"`
	// Culprits are the store paths whose bytes differ: root causes first,
	// then consequences, each group sorted by store path.
	Culprits []Culprit `json:"culprits"`
}

// Builder names one build compared: a record's builder or an image source.
type Builder struct {
	ID      string `json:"id"`
	Source  string `json:"source,omitempty"`
	DrvPath string `json:"drvPath,omitempty"`
	OutPath string `json:"outPath,omitempty"`
	Store   string `json:"store,omitempty"`
}

// Group is builds that produced the same image (equal digests).
type Group struct {
	// Builders are the builder ids, in the order given.
	Builders []string `json:"builders"`
	// Reference is true for the group the others are compared with.
	Reference bool `json:"reference,omitempty"`
	members   []int
}

// Inputs says whether the builds evaluated the same image derivation, and
// if not, how the derivations differ.
type Inputs struct {
	Same bool `json:"same"`
	// DrvPaths are the image .drv paths, one per builder.
	DrvPaths []string `json:"drvPaths"`
	// Differences between the first differing pair of derivation graphs,
	// in the order nix-diff would show them (the image first).
	Differences []InputDifference `json:"differences"`
}

// InputDifference is one way two derivations differ.
type InputDifference struct {
	// Derivation is the name of the derivation (such as greeting-data-1.0).
	Derivation string `json:"derivation"`
	DrvA       string `json:"drvA"`
	DrvB       string `json:"drvB"`
	// Field is builder, system, args, env, inputSrcs, inputDrvs, outputs
	// or missing (the record lacks the derivation).
	Field string `json:"field"`
	// Name is the env var, argument index, output or input named.
	Name string `json:"name,omitempty"`
	A    string `json:"a,omitempty"`
	B    string `json:"b,omitempty"`
	// ViaInput is true when the values are equal once the output and .drv
	// paths of differing inputs (and of the derivation itself) are mapped
	// from B to A: the difference follows from another one.
	ViaInput bool `json:"viaInput,omitempty"`
}

// DigestComparison compares one digest across the builds.
type DigestComparison struct {
	// Name is configDigest, manifestDigest, diffIDs, layers or layerDigests.
	Name string `json:"name"`
	Same bool   `json:"same"`
	// Compared is false when the values cannot be compared (such as
	// compressed digests made by different compressors).
	Compared bool     `json:"compared"`
	Values   []string `json:"values"`
	Note     string   `json:"note,omitempty"`
}

// Difference is one difference between the two images.
type Difference struct {
	// Kind is digest, config, layer or entry.
	Kind string `json:"kind"`
	// Layer is the layer index in image A (-1 when not about a layer).
	Layer int `json:"layer"`
	// LayerB is the layer index in image B when it differs from Layer.
	LayerB *int `json:"layerB,omitempty"`
	// Path is the tar entry (absolute, such as /nix/store/...-x/bin/x) or
	// the config field (such as config.Env[0]).
	Path string `json:"path,omitempty"`
	// Field is what differs: presence, type, mode, uid, gid, uname, gname,
	// mtime, size, linkname, xattr.NAME, pax.NAME, content, position,
	// diffID, count, or the config value.
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
	// Builder is, with three or more records, the builder B is: the
	// representative of a group that differs from the reference (A).
	Builder string `json:"builder,omitempty"`
}

// Culprit is one store path whose bytes differ between the builds.
type Culprit struct {
	// StorePath is /nix/store/<hash>-<name>, or the image itself for
	// config differences; "" when a file is outside the store.
	StorePath string `json:"storePath"`
	// DrvPath is the deriver, when a record's closure or Nix knows it.
	DrvPath string `json:"drvPath,omitempty"`
	// Files are the differing files, absolute, sorted.
	Files []string `json:"files"`
	// MoreFiles counts differing files left out of Files (see
	// Options.MaxFiles).
	MoreFiles int `json:"moreFiles,omitempty"`
	// Builders are, with three or more records, the builders whose image
	// differs from the reference's in this store path.
	Builders []string `json:"builders,omitempty"`
	// Causes are the likely causes, sorted: timestamp, random, order,
	// build-path, mode, owner, content, config, consequence.
	Causes []string `json:"causes"`
	// Evidence is a short excerpt of what differs, for people: that of the
	// first differing file found (as "<file relative to the store path>:
	// <excerpt>"), or the config's.
	Evidence string `json:"evidence,omitempty"`
	// FileDiffs are the causes and evidence of each file in Files, in the
	// same order (bounded like Files).
	FileDiffs []FileEvidence `json:"fileDiffs,omitempty"`
	// Hint is the command that confirms the culprit with Nix.
	Hint string `json:"hint"`
	// ConsequenceOf names the root-cause store path that this one embeds
	// or depends on; empty for a root cause.
	ConsequenceOf string `json:"consequenceOf,omitempty"`
	// ConsequenceWhy says how the consequence follows from ConsequenceOf:
	// a run-time reference, its store path in the bytes, copies of its
	// differing files, or a rebuild Nix found reproducible.
	ConsequenceWhy string `json:"consequenceWhy,omitempty"`
	// Confirmed is set by nixdock reproduce once Nix has rebuilt the
	// deriver: true when the rebuild differed too.
	Confirmed *bool `json:"confirmed,omitempty"`
	// ConfirmedBy is the command that confirmed (or refuted) the culprit.
	ConfirmedBy string `json:"confirmedBy,omitempty"`
}

// FileEvidence is why one file of a culprit differs.
type FileEvidence struct {
	// Path is the file, absolute.
	Path string `json:"path"`
	// Causes are the file's likely causes, sorted like Culprit.Causes.
	Causes []string `json:"causes"`
	// Evidence is a short excerpt of what differs in this file.
	Evidence string `json:"evidence,omitempty"`
}

// Root reports whether c is a root cause rather than a consequence.
func (c Culprit) Root() bool { return c.ConsequenceOf == "" }

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	data, err := r.MarshalJSONIndent()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// MarshalJSONIndent encodes the report deterministically.
func (r *Report) MarshalJSONIndent() ([]byte, error) { return EncodeJSON(r) }

// EncodeJSON encodes a report (or one that embeds it) as indented JSON,
// without HTML escaping: the one encoding of every report.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding report: %w", err)
	}
	return buf.Bytes(), nil
}

// newReport returns an empty report with the slices that JSON shows as []
// rather than null.
func newReport() *Report {
	return &Report{Schema: Schema, Builders: []Builder{}, Digests: []DigestComparison{},
		Differences: []Difference{}, Culprits: []Culprit{}}
}

// sortDifferences orders differences by kind, layer, path and field.
func sortDifferences(ds []Difference) {
	rank := map[string]int{"digest": 0, "config": 1, "layer": 2, "entry": 3}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Layer != b.Layer {
			return a.Layer < b.Layer
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Field < b.Field
	})
}

// sortCulprits puts root causes first, then consequences, each by store path.
func sortCulprits(cs []Culprit) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Root() != cs[j].Root() {
			return cs[i].Root()
		}
		return cs[i].StorePath < cs[j].StorePath
	})
}

// identicalVerdict names the digest and the builders of identical builds.
func identicalVerdict(manifest, config string, builders []Builder, note string) string {
	var ids []string
	for _, b := range builders {
		ids = append(ids, b.ID)
	}
	digest := "manifest " + manifest
	if manifest == "" {
		digest = "config " + config
	}
	v := fmt.Sprintf("reproducible: %d builds produced the same image (%s) on %s", len(builders), digest, strings.Join(ids, ", "))
	if note != "" {
		v += " (" + note + ")"
	}
	return v
}

// unprovenVerdict says why records that describe one image do not prove it.
func unprovenVerdict(d agree.Decision) string {
	return "not proven: the builds produced the same image, but " + strings.Join(d.Reasons, "; ")
}

// inputsVerdict says that the builds evaluated different derivations and
// names what changed.
func inputsVerdict(a, b *record.Record, k int, diffs []InputDifference) string {
	v := fmt.Sprintf("inputs differ: builder %d evaluated %s, builder %d %s", 1, a.DrvPath, k+1, b.DrvPath)
	if changed := changedDerivations(diffs); len(changed) > 0 {
		v += "; changed: " + joinMax(changed, 3)
	}
	return v
}

// differsVerdict names the root causes, or the digests when the images were
// not at hand.
func differsVerdict(rep *Report, digests []string) string {
	var roots, cons []string
	for _, c := range rep.Culprits {
		if c.Root() {
			roots = append(roots, verdictLabel(c))
		} else {
			cons = append(cons, culpritName(c))
		}
	}
	switch {
	case len(roots) == 1:
		v := "not reproducible: root cause " + roots[0]
		if len(cons) > 0 {
			v += fmt.Sprintf("; %d consequence(s)", len(cons))
		}
		return v
	case len(roots) > 1:
		return fmt.Sprintf("not reproducible: %d root causes: %s", len(roots), joinMax(roots, 3))
	case len(rep.Differences) > len(digests) && len(rep.Culprits) == 0:
		return "not reproducible: " + strings.Join(digests, ", ") + " differ, but no file does (see the differences)"
	}
	return "not reproducible: " + strings.Join(digests, ", ") + " differ (compare the images of the builds to find out why)"
}

func joinMax(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:n], "; "), len(items)-n)
}

// culpritName is how reports name a culprit: its store path, or, for an
// image without a record (no store path of its own), what differs in it.
func culpritName(c Culprit) string {
	if c.StorePath != "" {
		return c.StorePath
	}
	config := slices.Contains(c.Causes, CauseConfig)
	switch {
	case config && len(c.Files) == 0:
		return "the image config"
	case config:
		return "the image config and files outside the Nix store"
	}
	return "files outside the Nix store"
}

// verdictLabel names a root cause and its causes for the verdict line; a
// clock-read created date says so.
func verdictLabel(c Culprit) string {
	if c.Evidence == createdNote && len(c.Files) == 0 {
		return culpritName(c) + ": its created date reads the clock (timestamp)"
	}
	causes := c.Causes
	if c.StorePath == "" {
		causes = slices.DeleteFunc(slices.Clone(causes), func(s string) bool { return s == CauseConfig })
	}
	if len(causes) == 0 {
		return culpritName(c)
	}
	return fmt.Sprintf("%s (%s)", culpritName(c), strings.Join(causes, ", "))
}
