package agree

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
)

// Policy is what agreement requires.
type Policy struct {
	// MinBuilders is how many builders that count must agree (at least 1).
	MinBuilders int
	// MinHosts is how many distinct hosts those builders must span (0: any).
	MinHosts int
	// Digest, when set, is the manifest digest to be proven (signing): a
	// counted builder must have produced exactly it.
	Digest string
	// Identities are the verified signers of the records, in their order
	// (the zero Identity for an unsigned record; nil: none signed). The
	// caller verifies the signatures (recsig.ReadRecords); Decide only
	// counts them.
	Identities []recsig.Identity `json:"-"`
	// RequireSigned counts only records with a verified signer: an
	// unsigned record is a claim anyone in the run could have made.
	RequireSigned bool `json:",omitempty"`
}

// Decision is the outcome of Decide. It is data: every renderer shows it.
type Decision struct {
	// Agreed is true when the policy is met.
	Agreed bool `json:"agreed"`
	// DrvPath and Digests are what the counted builders agreed on.
	DrvPath string  `json:"drvPath,omitempty"`
	Digests Digests `json:"digests"`
	// Counted is how many builders count; Hosts how many distinct hosts
	// they ran on.
	Counted int `json:"counted"`
	Hosts   int `json:"hosts"`
	// Builders are the records, in the order given, each with whether and
	// why it counts.
	Builders []Builder `json:"builders"`
	// Groups are the records that produced the same image (indexes into
	// Builders), the reference group first.
	Groups [][]int `json:"groups"`
	// Reasons say why the policy is not met, sorted; empty when Agreed.
	Reasons []string `json:"reasons,omitempty"`
	// Policy is the policy decided against.
	Policy Policy `json:"policy"`
}

// Digests identify the agreed image.
type Digests struct {
	Manifest   string   `json:"manifest,omitempty"`
	Config     string   `json:"config,omitempty"`
	Compressor string   `json:"compressor,omitempty"`
	DiffIDs    []string `json:"diffIDs,omitempty"`
}

// Builder is one record's part in the decision.
type Builder struct {
	ID string `json:"id"`
	// Host is the builder's host fingerprint; Store its store ("" for the
	// machine's own).
	Host  string `json:"host,omitempty"`
	Store string `json:"store,omitempty"`
	// Origin is how the image came to be in its store (record.Origin.How),
	// "unknown" for records without it.
	Origin string `json:"origin"`
	// Isolation says what set this build apart from the other counted
	// ones: "separate host" or "separate store on one host".
	Isolation string `json:"isolation,omitempty"`
	// Identity says how the builder is known: "self-reported" (an unsigned
	// record) or "signed by <identity>" (a record whose signature by the
	// builder's own CI identity was verified), in words; Signer is that
	// identity's subject (the certificate's SAN) for policies to match.
	Identity string `json:"identity"`
	Signer   string `json:"signer,omitempty"`
	// Counts is true when the builder counts towards agreement; Why says
	// why it does or does not, in words.
	Counts bool   `json:"counts"`
	Why    string `json:"why"`
	// DrvPath and ManifestDigest are the record's.
	DrvPath        string `json:"drvPath"`
	ManifestDigest string `json:"manifestDigest"`
}

// IdentitySelfReported is a builder known only from its own unsigned record.
const IdentitySelfReported = "self-reported"

// IdentitySignedBy prefixes the verified identity of a signed record's
// builder.
const IdentitySignedBy = "signed by "

// Decide decides whether recs prove one image under policy.
func Decide(recs []*record.Record, policy Policy) Decision {
	d := Decision{Policy: policy, Builders: []Builder{}, Groups: [][]int{}}
	if policy.MinBuilders < 1 {
		d.Reasons = []string{fmt.Sprintf("the policy asks for %d builders: at least 1 must agree", policy.MinBuilders)}
		return d
	}
	if len(recs) == 0 {
		d.Reasons = []string{"no build records were given"}
		return d
	}
	if n := len(policy.Identities); n != 0 && n != len(recs) {
		// Identities of other records: none is known to be whose.
		d.Reasons = []string{fmt.Sprintf("%d signer identities were given for %d records", n, len(recs))}
		d.Policy.Identities = nil
	}
	eligible := d.admit(recs)
	d.Groups = groupImages(recs)
	ref := d.reference(recs, eligible)
	if ref >= 0 {
		d.countGroup(recs, eligible, d.Groups[ref])
		d.Groups[0], d.Groups[ref] = d.Groups[ref], d.Groups[0]
	}
	rest := d.Groups[1:]
	sort.SliceStable(rest, func(i, j int) bool { return rest[i][0] < rest[j][0] })
	d.disagreements(recs, eligible)
	d.policyReasons()
	sort.Strings(d.Reasons)
	d.Agreed = len(d.Reasons) == 0
	return d
}

// admit fills Builders and returns which records may count: built or
// rebuilt here, and not a second record of a build already admitted.
func (d *Decision) admit(recs []*record.Record) []bool {
	eligible := make([]bool, len(recs))
	seen := map[string]int{}
	for i, r := range recs {
		b := Builder{ID: r.Builder.ID, Store: r.Store, Origin: "unknown", Identity: IdentitySelfReported,
			DrvPath: r.DrvPath, ManifestDigest: r.Image.ManifestDigest}
		signed := len(d.Policy.Identities) > 0 && d.Policy.Identities[i].Subject != ""
		if signed {
			b.Identity, b.Signer = IdentitySignedBy+d.Policy.Identities[i].String(), d.Policy.Identities[i].Subject
		}
		if r.Origin != nil {
			b.Host, b.Origin = r.Origin.Host, r.Origin.How
		}
		switch first, dup := seen[r.BuildKey()]; {
		case d.Policy.RequireSigned && !signed:
			b.Why = "the record is not signed by its builder's identity, and the policy counts only signed records"
		case r.Origin == nil:
			b.Why = "the record does not say how the image came to be (written by an older nixdock): rebuild with this one"
		case !r.Origin.Counts():
			b.Why = "the image was substituted from a cache, not built by this builder"
		case dup:
			b.Why = fmt.Sprintf("the same build as builder %d (%s): same host, store and registration time of the image; a copied record", first+1, recs[first].Builder.ID)
		default:
			seen[r.BuildKey()] = i
			eligible[i] = true
		}
		d.Builders = append(d.Builders, b)
	}
	return eligible
}

// groupImages groups the records by the image they describe: derivation,
// config and diff_ids always; compressed digests when every record used the
// same compressor (they depend on it). The largest group comes first.
func groupImages(recs []*record.Record) [][]int {
	sameComp := true
	for _, r := range recs[1:] {
		sameComp = sameComp && r.Image.Compressor == recs[0].Image.Compressor
	}
	var groups [][]int
	index := map[string]int{}
	for i, r := range recs {
		k := imageKey(r, sameComp)
		g, ok := index[k]
		if !ok {
			g = len(groups)
			index[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	sort.SliceStable(groups, func(i, j int) bool { return len(groups[i]) > len(groups[j]) })
	return groups
}

func imageKey(r *record.Record, sameComp bool) string {
	var b strings.Builder
	b.WriteString(r.DrvPath + "\n" + r.Image.ConfigDigest + "\n")
	for _, l := range r.Image.Layers {
		b.WriteString(l.DiffID + "\n")
		if sameComp {
			b.WriteString(l.Digest + "\n")
		}
	}
	if sameComp {
		b.WriteString(r.Image.ManifestDigest)
	}
	return b.String()
}

// reference picks the group the decision is about: with a digest to prove,
// the group in which a counted builder produced that digest; otherwise the
// group with the most eligible builders (the first on a tie). -1: none.
func (d *Decision) reference(recs []*record.Record, eligible []bool) int {
	best, bestN := -1, 0
	for gi, g := range d.Groups {
		n := 0
		for _, i := range g {
			if eligible[i] && (d.Policy.Digest == "" || recs[i].Image.ManifestDigest == d.Policy.Digest) {
				n++
			}
		}
		if n > bestN {
			best, bestN = gi, n
		}
	}
	return best
}

// countGroup counts the eligible builders of the reference group, and
// within it those whose compressor matches the signed digest's builder.
func (d *Decision) countGroup(recs []*record.Record, eligible []bool, g []int) {
	first := -1
	for _, i := range g {
		if eligible[i] && (d.Policy.Digest == "" || recs[i].Image.ManifestDigest == d.Policy.Digest) {
			first = i
			break
		}
	}
	r := recs[first]
	d.DrvPath = r.DrvPath
	d.Digests = Digests{Manifest: r.Image.ManifestDigest, Config: r.Image.ConfigDigest, Compressor: r.Image.Compressor.Name}
	for _, l := range r.Image.Layers {
		d.Digests.DiffIDs = append(d.Digests.DiffIDs, l.DiffID)
	}
	hosts := map[string]bool{}
	for _, i := range g {
		if !eligible[i] {
			continue
		}
		b := &d.Builders[i]
		b.Counts = true
		d.Counted++
		hosts[b.Host] = true
		b.Why = fmt.Sprintf("%s the image in its own store", b.Origin)
		if b.Origin == record.OriginRebuilt {
			b.Why = "rebuilt the image Nix had substituted, and got the cache's bytes"
		}
	}
	d.Hosts = len(hosts)
	for _, i := range g {
		if b := &d.Builders[i]; b.Counts {
			b.Isolation = "separate host"
			if sharesHost(d.Builders, eligible, i) {
				b.Isolation = "separate store on one host"
			}
		}
	}
}

// sharesHost reports whether another builder with a build of its own
// (eligible, whether it agrees or not) ran on i's host: isolation is what
// set this build apart from every other build compared with it.
func sharesHost(bs []Builder, eligible []bool, i int) bool {
	for j := range bs {
		if j != i && eligible[j] && bs[j].Host == bs[i].Host {
			return true
		}
	}
	return false
}

// disagreements explains, for each eligible builder outside the reference
// group, what it disagrees on.
func (d *Decision) disagreements(recs []*record.Record, eligible []bool) {
	if d.DrvPath == "" {
		return
	}
	for i, r := range recs {
		b := &d.Builders[i]
		if !eligible[i] || b.Counts {
			continue
		}
		switch {
		case r.DrvPath != d.DrvPath:
			b.Why = "evaluated another derivation: " + r.DrvPath
		case r.Image.ConfigDigest != d.Digests.Config || !sameDiffIDs(r, d.Digests.DiffIDs):
			b.Why = "built other bytes: config " + r.Image.ConfigDigest
		default:
			b.Why = "the same image content, but other compressed bytes from the same compressor: manifest " + r.Image.ManifestDigest
		}
		d.Reasons = append(d.Reasons, fmt.Sprintf("builder %s disagrees: %s", b.ID, b.Why))
	}
}

func sameDiffIDs(r *record.Record, ids []string) bool {
	if len(r.Image.Layers) != len(ids) {
		return false
	}
	for i, l := range r.Image.Layers {
		if l.DiffID != ids[i] {
			return false
		}
	}
	return true
}

// policyReasons adds what the counted builders fall short of.
func (d *Decision) policyReasons() {
	p := d.Policy
	if d.DrvPath == "" && p.Digest != "" {
		d.Reasons = append(d.Reasons, fmt.Sprintf("no builder that counts produced %s", p.Digest))
	}
	if d.Counted < p.MinBuilders {
		d.Reasons = append(d.Reasons, fmt.Sprintf("%d builder(s) that count agreed, fewer than the %d required", d.Counted, p.MinBuilders))
	}
	if p.MinHosts > 0 && d.Hosts < p.MinHosts {
		d.Reasons = append(d.Reasons, fmt.Sprintf("the agreeing builders ran on %d host(s), fewer than the %d required", d.Hosts, p.MinHosts))
	}
}
