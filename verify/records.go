package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/image"
	"github.com/nixdock/nixdock-action/internal/storepath"
	"github.com/nixdock/nixdock-action/nix"
	"github.com/nixdock/nixdock-action/record"
)

// Options tune a comparison. The zero value is usable.
type Options struct {
	// Images are the images of the records, in the same order (Records);
	// entries may be nil. With the images of two differing builds at hand,
	// Records runs the deep diff.
	Images []*image.Image
	// OpenImage, when set and Images is not, opens the image of record i
	// (Records) only when the deep diff needs it, and each record's at
	// most once; it returns nil and no error when that image is not at
	// hand. The caller closes what it opened. Records that agree, or
	// that evaluated different inputs, open nothing.
	OpenImage func(ctx context.Context, i int) (*image.Image, error)
	// Records are the build records of the images (Images), used to map
	// store paths to derivers and references.
	Records []*record.Record
	// Nix, when set, is asked for the derivers and references of culprit
	// store paths that no record covers (nixdock diff without records).
	Nix *nix.Runner
	// Workers is how many layer pairs are compared at once; 0 is GOMAXPROCS.
	Workers int
	// HeadCap is how many bytes of each differing file are kept for cause
	// inference (default 64 KiB); Budget bounds all kept bytes of one diff
	// (default 16 MiB).
	HeadCap, Budget int
	// MaxDifferences bounds Report.Differences (default 1000; negative is
	// unlimited). MaxFiles bounds each culprit's Files (default 100).
	MaxDifferences, MaxFiles int
	// NoStoreInHints leaves the store out of culprit hints, for stores that
	// will be gone when the report is read (reproduce without --keep): the
	// hints then rebuild in the user's own store.
	NoStoreInHints bool
	// Policy is what agreement of records requires (agree.Decide); the
	// zero value asks for two builders.
	Policy agree.Policy
	// OnLayer, when set, hears each finished layer pair (for progress).
	OnLayer func(done, total int)
}

func (o Options) withDefaults() Options {
	if o.MaxDifferences == 0 {
		o.MaxDifferences = 1000
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = 100
	}
	if o.Policy.MinBuilders == 0 {
		o.Policy.MinBuilders = 2
	}
	return o
}

// Records compares the build records of two or more builders: inputs first
// (the image .drv paths, with a derivation diff when they differ), then the
// digests, then, when the images of differing builds are in opts.Images,
// the deep diff. Whether the records prove the image is agree.Decide's
// decision (Report.Agreement), made once for every command; the report
// explains it. Records that describe the same image form a group; the
// reference group is compared with one representative of every other.
func Records(ctx context.Context, recs []*record.Record, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if len(recs) < 2 {
		return nil, fmt.Errorf("verify needs two or more build records, got %d", len(recs))
	}
	rep := newReport()
	for i, r := range recs {
		if r == nil {
			return nil, fmt.Errorf("build record %d is missing", i+1)
		}
		if err := r.Check(); err != nil {
			return nil, fmt.Errorf("build record %d (%s): %w", i+1, r.Builder.ID, err)
		}
		rep.Builders = append(rep.Builders, Builder{ID: r.Builder.ID, DrvPath: r.DrvPath, OutPath: r.OutPath, Store: r.Store})
	}
	decision := agree.Decide(recs, opts.Policy)
	rep.Agreement = &decision
	rep.Inputs = &Inputs{Same: true, Differences: []InputDifference{}}
	for _, r := range recs {
		rep.Inputs.DrvPaths = append(rep.Inputs.DrvPaths, r.DrvPath)
	}
	for k, r := range recs[1:] {
		if r.DrvPath != recs[0].DrvPath {
			rep.Inputs.Same = false
			rep.Inputs.Differences = diffInputs(recs[0], r)
			rep.Verdict = inputsVerdict(recs[0], r, k+1, rep.Inputs.Differences)
			return rep.decided(decision), nil
		}
	}
	// Images given are read in full and must be their records' images
	// before anything is compared (re-created nix2container layers too);
	// images opened on demand are checked when they are opened.
	if err := checkRecordImages(ctx, recs, opts.Images, opts.Workers); err != nil {
		return nil, err
	}
	cmp := compareRecordDigests(recs, decision.Groups)
	rep.Digests, rep.Differences = cmp.digests, cmp.diffs
	if len(recs) > 2 {
		rep.Groups = cmp.groups
	}
	if len(cmp.groups) == 1 {
		rep.Verdict = identicalVerdict(recs[0].Image.ManifestDigest, recs[0].Image.ConfigDigest, rep.Builders, cmp.note)
		if !decision.Agreed {
			rep.Verdict = unprovenVerdict(decision)
		}
		return rep.decided(decision), nil
	}
	if err := rep.deepRecords(ctx, recs, cmp.groups, opts); err != nil {
		return nil, err
	}
	rep.Verdict = differsVerdict(rep, cmp.names) + groupsVerdict(cmp.groups, len(recs))
	return rep.decided(decision), nil
}

// decided sets Reproducible from the decision, the only place it is
// made. When builders that count agreed while others (that do not count)
// differ, the verdict says both.
func (rep *Report) decided(d agree.Decision) *Report {
	rep.Reproducible = d.Agreed
	if d.Agreed && !strings.HasPrefix(rep.Verdict, "reproducible") {
		rep.Verdict = fmt.Sprintf("reproducible: %d builders that count agreed (manifest %s); builders that do not count differ: %s",
			d.Counted, d.Digests.Manifest, rep.Verdict)
	}
	return rep
}

// deepRecords diffs the reference group's image with one image of every
// other group, when the images are at hand, and adds what it finds.
func (rep *Report) deepRecords(ctx context.Context, recs []*record.Record, groups []Group, opts Options) error {
	picked, imgs, err := pickImages(ctx, recs, groups, opts)
	if err != nil {
		return err
	}
	ref, others := picked[0], picked[1:]
	if ref < 0 || slices.Max(others) < 0 {
		return nil // no image to compare the reference's with
	}
	// The reference image is compared with one image of every other
	// group at once, its layers read once (deepDiffMany).
	var ks []int
	var otherImgs []v1.Image
	for _, k := range others {
		if k >= 0 {
			ks = append(ks, k)
			otherImgs = append(otherImgs, imgs[k])
		}
	}
	results, err := deepDiffMany(ctx, imgs[ref], otherImgs, opts)
	if err != nil {
		return err
	}
	atRecs := []*record.Record{recs[ref]}
	var pairs []pairDiff
	for gi, k := range others {
		if k < 0 {
			continue
		}
		p := pairDiff{res: results[slices.Index(ks, k)]}
		if len(recs) > 2 {
			p.builder, p.builders = recs[k].Builder.ID, groups[gi+1].Builders
		}
		pairs = append(pairs, p)
		atRecs = append(atRecs, recs[k])
	}
	if len(pairs) > 0 {
		rep.addDeep(pairs, newAttribution(atRecs, opts), opts)
	}
	return nil
}

// digestCmp is the outcome of comparing the records' digests.
type digestCmp struct {
	digests []DigestComparison
	diffs   []Difference
	names   []string // the digests that differ
	groups  []Group  // the records that agree, the reference first
	note    string
}

// compareRecordDigests compares the records' digests and groups the records
// that agree. Compressed layer digests and the manifest digest depend on the
// compressor, so they are compared only when all builds used the same one.
func compareRecordDigests(recs []*record.Record, groups [][]int) digestCmp {
	var c digestCmp
	sameComp := true
	for _, r := range recs[1:] {
		if r.Image.Compressor != recs[0].Image.Compressor {
			sameComp = false
		}
	}
	values := func(f func(*record.Record) string) []string {
		var vs []string
		for _, r := range recs {
			vs = append(vs, f(r))
		}
		return vs
	}
	add := func(name string, compared bool, vs []string) {
		dc := DigestComparison{Name: name, Same: compared, Compared: compared, Values: vs}
		for _, v := range vs {
			if compared {
				dc.Same = dc.Same && v == vs[0]
			}
		}
		if !compared {
			dc.Note = "builders used different compressors: " + strings.Join(values(compressorName), ", ")
			c.note = "compressed digests not compared: different compressors"
		}
		if compared && !dc.Same {
			c.names = append(c.names, name)
		}
		c.digests = append(c.digests, dc)
	}
	add("configDigest", true, values(func(r *record.Record) string { return r.Image.ConfigDigest }))
	add("diffIDs", true, values(func(r *record.Record) string { return listDigest(r.Image.Layers, diffIDOf) }))
	add("layerDigests", sameComp, values(func(r *record.Record) string { return listDigest(r.Image.Layers, digestOf) }))
	add("manifestDigest", sameComp, values(func(r *record.Record) string { return r.Image.ManifestDigest }))
	c.groups = recordGroups(recs, groups)
	ref := c.groups[0].members[0]
	for _, g := range c.groups[1:] {
		for _, d := range recordDifferences(recs[ref], recs[g.members[0]], sameComp) {
			if len(recs) > 2 {
				d.Builder = recs[g.members[0]].Builder.ID
			}
			c.diffs = append(c.diffs, d)
		}
	}
	return c
}

// recordGroups names the builders of agree's groups of records.
func recordGroups(recs []*record.Record, groups [][]int) []Group {
	out := make([]Group, len(groups))
	for gi, g := range groups {
		out[gi].members = g
		for _, i := range g {
			out[gi].Builders = append(out[gi].Builders, recs[i].Builder.ID)
		}
	}
	out[0].Reference = true
	return out
}

// groupsVerdict names the builders that disagree with the reference, with
// three or more records.
func groupsVerdict(groups []Group, n int) string {
	if n <= 2 || len(groups) < 2 {
		return ""
	}
	var others []string
	for _, g := range groups[1:] {
		others = append(others, g.Builders...)
	}
	ref, largest := groups[0], 0
	for _, g := range groups[1:] {
		largest = max(largest, len(g.Builders))
	}
	if len(ref.Builders) > largest {
		verb := "disagrees"
		if len(others) > 1 {
			verb = "disagree"
		}
		return fmt.Sprintf("; %s %s with the majority (%s)", strings.Join(others, ", "), verb, strings.Join(ref.Builders, ", "))
	}
	return fmt.Sprintf("; no majority: %d different images among %d builds, compared with %s", len(groups), n, strings.Join(ref.Builders, ", "))
}

func compressorName(r *record.Record) string {
	comp := r.Image.Compressor
	s := comp.Name
	if comp.Library != "" {
		s += " (" + comp.Library + " level " + strconv.Itoa(comp.Level) + ")"
	}
	return s
}

func diffIDOf(l image.Layer) string { return l.DiffID }
func digestOf(l image.Layer) string { return l.Digest }

// listDigest summarizes a list of layer digests as one value (hashList).
func listDigest(ls []image.Layer, f func(image.Layer) string) string {
	vs := make([]string, len(ls))
	for i, l := range ls {
		vs[i] = f(l)
	}
	return hashList(vs)
}

// recordDifferences lists the digests that differ between two records.
func recordDifferences(a, b *record.Record, sameComp bool) []Difference {
	var out []Difference
	add := func(layer int, field, va, vb string) {
		if va != vb {
			out = append(out, Difference{Kind: "digest", Layer: layer, Field: field, A: va, B: vb})
		}
	}
	add(-1, "configDigest", a.Image.ConfigDigest, b.Image.ConfigDigest)
	if sameComp {
		add(-1, "manifestDigest", a.Image.ManifestDigest, b.Image.ManifestDigest)
	}
	add(-1, "layers", strconv.Itoa(len(a.Image.Layers)), strconv.Itoa(len(b.Image.Layers)))
	for i := 0; i < min(len(a.Image.Layers), len(b.Image.Layers)); i++ {
		la, lb := a.Image.Layers[i], b.Image.Layers[i]
		add(i, "diffID", la.DiffID, lb.DiffID)
		if sameComp {
			add(i, "digest", la.Digest, lb.Digest)
		}
	}
	return out
}

// Images compares two images: digests first, then, when they differ, the
// configs and layers (the deep diff). opts.Records, when given, name the
// builders and map store paths to derivers.
func Images(ctx context.Context, a, b *image.Image, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if a == nil || b == nil {
		return nil, errors.New("verify.Images needs two images")
	}
	if err := checkImages(ctx, []*image.Image{a, b}, opts.Workers); err != nil {
		return nil, err
	}
	rep := newReport()
	rep.Builders = []Builder{{ID: a.Source, Source: a.Source}, {ID: b.Source, Source: b.Source}}
	for i, r := range opts.Records {
		if i < 2 && r != nil {
			rep.Builders[i] = Builder{ID: r.Builder.ID, Source: rep.Builders[i].Source, DrvPath: r.DrvPath, OutPath: r.OutPath, Store: r.Store}
		}
	}
	names, err := rep.compareImageDigests(a, b)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		rep.Reproducible = true
		rep.Verdict = identicalVerdict(rep.Digests[len(rep.Digests)-1].Values[0], rep.Digests[0].Values[0], rep.Builders, "")
		return rep, nil
	}
	res, err := deepDiff(ctx, a, b, opts)
	if err != nil {
		return nil, err
	}
	at := newAttribution(opts.Records, opts)
	at.lookupNix(ctx, opts.Nix, storePathsOf(res.files, res.omitted))
	rep.addDeep([]pairDiff{{res: res}}, at, opts)
	rep.Verdict = differsVerdict(rep, names)
	return rep, nil
}

func storePathsOf(files []fileDiff, omitted omittedSet) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		if sp := storepath.Of(f.Path); sp != "" && !seen[sp] {
			seen[sp] = true
			out = append(out, sp)
		}
	}
	for _, sp := range sortedKeys(omitted) {
		if sp != "" && !seen[sp] {
			seen[sp] = true
			out = append(out, sp)
		}
	}
	return out
}

// compareImageDigests fills Digests and digest Differences of two images and
// returns the names of the digests that differ. The manifest digest is
// compared only between published forms: nixdock assembles the manifests of
// archives and stream outputs itself (see image.Describe).
func (rep *Report) compareImageDigests(a, b *image.Image) ([]string, error) {
	var names []string
	add := func(name, va, vb string, compared bool, note string) {
		dc := DigestComparison{Name: name, Same: compared && va == vb, Compared: compared, Values: []string{va, vb}, Note: note}
		rep.Digests = append(rep.Digests, dc)
		if compared && !dc.Same {
			names = append(names, name)
			rep.Differences = append(rep.Differences, Difference{Kind: "digest", Layer: -1, Field: name, A: va, B: vb})
		}
	}
	ca, err := a.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", a.Source, err)
	}
	cb, err := b.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", b.Source, err)
	}
	add("configDigest", ca.String(), cb.String(), true, "")
	la, err := diffIDs(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Source, err)
	}
	lb, err := diffIDs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Source, err)
	}
	add("diffIDs", hashList(stringsOf(la)), hashList(stringsOf(lb)), true, "")
	ma, mb, ok := "", "", published(a) && published(b)
	note := ""
	if ok {
		if h, err := a.Digest(); err == nil {
			ma = h.String()
		}
		if h, err := b.Digest(); err == nil {
			mb = h.String()
		}
	} else {
		note = "not compared: a docker-archive or stream output has no published manifest"
	}
	add("manifestDigest", ma, mb, ok, note)
	return names, nil
}

func published(i *image.Image) bool {
	return i.Form == image.FormRegistry || i.Form == image.FormOCILayout
}

// hashList summarizes a list of digests as one value: the count, and the
// sha256 of the digests, one a line (worded so that it is not taken for
// one layer's digest).
func hashList(ds []string) string {
	h := sha256.New()
	for _, d := range ds {
		h.Write([]byte(d + "\n"))
	}
	return fmt.Sprintf("%d layers, list sha256:%s", len(ds), hex.EncodeToString(h.Sum(nil)))
}

func stringsOf[T fmt.Stringer](xs []T) []string {
	vs := make([]string, len(xs))
	for i, x := range xs {
		vs[i] = x.String()
	}
	return vs
}

// pairDiff is the deep diff of the reference with one other build; with
// three or more records, builder names that build's representative and
// builders its whole group.
type pairDiff struct {
	res      *deepResult
	builder  string
	builders []string
}

// addDeep adds the deep diffs' differences and culprits to the report.
func (rep *Report) addDeep(pairs []pairDiff, at *attribution, opts Options) {
	var diffs []Difference
	omittedFields := 0
	for _, p := range pairs {
		omittedFields += p.res.omitted.fieldCount() + p.res.config.omitted
		n := len(diffs)
		diffs = append(diffs, p.res.config.diffs...)
		diffs = append(diffs, p.res.layers...)
		for _, fd := range p.res.files {
			for _, f := range fd.Fields {
				f.Layer = fd.Layer
				if fd.LayerB != fd.Layer {
					f.LayerB = intPtr(fd.LayerB)
				}
				diffs = append(diffs, f)
			}
		}
		for i := n; i < len(diffs); i++ {
			diffs[i].Builder = p.builder
		}
	}
	rep.Differences = append(rep.Differences, diffs...)
	sortDifferences(rep.Differences)
	if opts.MaxDifferences > 0 && len(rep.Differences) > opts.MaxDifferences {
		rep.Truncated = len(rep.Differences) - opts.MaxDifferences
		rep.Differences = rep.Differences[:opts.MaxDifferences]
	}
	// Differences not kept in full were counted only (retain.go).
	rep.Truncated += omittedFields
	rep.Culprits = at.culprits(pairs)
}
