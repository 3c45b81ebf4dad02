package sign

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nixdock/nixdock-action/build"
)

// Predicate types nixdock attests; every field is in docs/attestations.md.
const (
	PredicateSPDX         = "https://spdx.dev/Document"
	PredicateCycloneDX    = "https://cyclonedx.org/bom"
	PredicateReproducible = "https://nixdock.dev/attestations/reproducible/v1"
	PredicateSLSA1        = "https://slsa.dev/provenance/v1"
	PredicateSBOMRef      = "https://nixdock.dev/attestations/sbom-ref/v1"
	// BuildType is the SLSA build type of a Nix image build.
	BuildType = "https://nixdock.dev/nix-image/v1"
	// StatementType is the in-toto statement version cosign v2 writes and
	// both cosign v2 and v3 read.
	StatementType = "https://in-toto.io/Statement/v0.1"
)

// Statement is an in-toto statement about one image.
type Statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []Subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject names the image: its repository and manifest digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Attestation is a predicate ready to be put in a statement and signed.
type Attestation struct {
	PredicateType string
	Predicate     json.RawMessage
}

// marshal encodes v deterministically (sorted map keys, no HTML escaping).
func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// DetectSBOM names the predicate type of an SBOM document: SPDX JSON
// (spdxVersion) or CycloneDX JSON (bomFormat "CycloneDX").
func DetectSBOM(data []byte) (predicateType, mediaType string, err error) {
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		BOMFormat   string `json:"bomFormat"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", "", fmt.Errorf("not a JSON SBOM: %w", err)
	}
	switch {
	case strings.HasPrefix(doc.SPDXVersion, "SPDX-"):
		return PredicateSPDX, "application/spdx+json", nil
	case doc.BOMFormat == "CycloneDX":
		return PredicateCycloneDX, "application/vnd.cyclonedx+json", nil
	}
	return "", "", errors.New("neither SPDX JSON (no spdxVersion) nor CycloneDX JSON (bomFormat is not CycloneDX)")
}

// SBOMRef is the predicate attested instead of an SBOM too large for the
// transparency log: the SBOM is pushed as an OCI artifact next to the image
// and this predicate binds its digest to the image.
type SBOMRef struct {
	// SBOMPredicateType is what the SBOM would have been attested as.
	SBOMPredicateType string `json:"sbomPredicateType"`
	MediaType         string `json:"mediaType"`
	// Digest and Size are the SBOM file's own.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// Artifact is the OCI artifact manifest holding the SBOM, as
	// repository@sha256:...; it names the image as its subject.
	Artifact string `json:"artifact"`
	// InlineLimit is the size above which SBOMs are referenced, not inlined.
	InlineLimit int64 `json:"inlineLimit"`
}

// Reproducible is the reproducibility predicate
// (https://nixdock.dev/attestations/reproducible/v1).
type Reproducible struct {
	// Verdict is "reproducible" when at least MinBuilders independent
	// builders agreed on the signed digest, else "unverified".
	Verdict         string `json:"verdict"`
	AllowUnverified bool   `json:"allowUnverified"`
	// Reasons say why the verdict is "unverified".
	Reasons     []string `json:"reasons,omitempty"`
	MinBuilders int      `json:"minBuilders"`
	// AgreedBuilders counts distinct builder ids whose records agree.
	AgreedBuilders int            `json:"agreedBuilders"`
	DrvPath        string         `json:"drvPath,omitempty"`
	Digests        AgreedDigests  `json:"digests"`
	Builders       []BuilderBrief `json:"builders"`
}

// Verdicts of the reproducibility predicate.
const (
	VerdictReproducible = "reproducible"
	VerdictUnverified   = "unverified"
)

// AgreedDigests are the digests the builders agreed on.
type AgreedDigests struct {
	Manifest   string   `json:"manifest"`
	Config     string   `json:"config,omitempty"`
	Compressor string   `json:"compressor,omitempty"`
	DiffIDs    []string `json:"diffIDs,omitempty"`
}

// BuilderBrief is one build record in brief.
type BuilderBrief struct {
	ID             string            `json:"id"`
	System         string            `json:"system,omitempty"`
	OS             string            `json:"os,omitempty"`
	Kernel         string            `json:"kernel,omitempty"`
	RunnerName     string            `json:"runnerName,omitempty"`
	ImageOS        string            `json:"imageOS,omitempty"`
	WorkflowRun    string            `json:"workflowRun,omitempty"`
	NixVersion     string            `json:"nixVersion,omitempty"`
	NixdockVersion string            `json:"nixdockVersion,omitempty"`
	Store          string            `json:"store,omitempty"`
	Variation      map[string]string `json:"variation,omitempty"`
	DrvPath        string            `json:"drvPath"`
	ManifestDigest string            `json:"manifestDigest"`
}

// UnverifiedError is a refusal to sign: the records do not prove the digest.
type UnverifiedError struct {
	Digest  string
	Reasons []string
}

func (e *UnverifiedError) Error() string {
	return fmt.Sprintf("refusing to sign %s: %s (pass --allow-unverified to sign anyway; the attestation will say so)",
		e.Digest, strings.Join(e.Reasons, "; "))
}

// CheckRecords compares the records with each other and with digest (the
// manifest digest being signed) and returns the reproducibility predicate.
// Unless allowUnverified, an unproven digest is an *UnverifiedError.
func CheckRecords(records []*build.Record, digest string, minBuilders int, allowUnverified bool) (*Reproducible, error) {
	if minBuilders < 1 {
		// Zero would call an image signed by nobody "reproducible".
		return nil, fmt.Errorf("a policy of %d builders: want at least 1", minBuilders)
	}
	p := &Reproducible{Verdict: VerdictReproducible, AllowUnverified: allowUnverified, MinBuilders: minBuilders,
		Digests: AgreedDigests{Manifest: digest}, Builders: []BuilderBrief{}}
	ids := map[string]bool{}
	for _, r := range records {
		p.Builders = append(p.Builders, brief(r))
		ids[r.Builder.ID] = true
	}
	sort.Slice(p.Builders, func(i, j int) bool {
		a, b := p.Builders[i], p.Builders[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.ManifestDigest < b.ManifestDigest
	})
	p.Reasons = disagreements(records, digest)
	if len(p.Reasons) == 0 && len(records) > 0 {
		r := records[0]
		p.DrvPath = r.DrvPath
		p.AgreedBuilders = len(ids)
		p.Digests.Config = r.Image.ConfigDigest
		p.Digests.Compressor = r.Image.Compressor.Name
		for _, l := range r.Image.Layers {
			p.Digests.DiffIDs = append(p.Digests.DiffIDs, l.DiffID)
		}
	}
	if p.AgreedBuilders < minBuilders {
		p.Reasons = append(p.Reasons, fmt.Sprintf("%d independent builder(s) agreed, fewer than the %d required", p.AgreedBuilders, minBuilders))
	}
	if len(p.Reasons) == 0 {
		p.Reasons = nil
		return p, nil
	}
	p.Verdict = VerdictUnverified
	if !allowUnverified {
		return nil, &UnverifiedError{Digest: digest, Reasons: p.Reasons}
	}
	return p, nil
}

func brief(r *build.Record) BuilderBrief {
	return BuilderBrief{
		ID: r.Builder.ID, System: r.System, OS: r.Builder.OS, Kernel: r.Builder.Kernel,
		RunnerName: r.Builder.RunnerName, ImageOS: r.Builder.ImageOS, WorkflowRun: r.Builder.Workflow,
		NixVersion: r.NixVersion, NixdockVersion: r.Nixdock, Store: r.Store, Variation: r.Variation,
		DrvPath: r.DrvPath, ManifestDigest: r.Image.ManifestDigest,
	}
}

// disagreements lists why the records do not prove digest, sorted.
func disagreements(records []*build.Record, digest string) []string {
	if len(records) == 0 {
		return []string{"no build records were given"}
	}
	var out []string
	first := records[0]
	for _, r := range records[1:] {
		if r.DrvPath != first.DrvPath {
			out = append(out, fmt.Sprintf("builders %s and %s evaluated different derivations (%s, %s)",
				first.Builder.ID, r.Builder.ID, first.DrvPath, r.DrvPath))
		}
		if r.Image.ManifestDigest != first.Image.ManifestDigest {
			out = append(out, fmt.Sprintf("builders %s and %s produced different manifest digests (%s, %s)",
				first.Builder.ID, r.Builder.ID, first.Image.ManifestDigest, r.Image.ManifestDigest))
		}
	}
	for _, r := range records {
		if r.Image.ManifestDigest != digest {
			out = append(out, fmt.Sprintf("builder %s's manifest digest %s (%s) is not the signed digest %s",
				r.Builder.ID, r.Image.ManifestDigest, r.Image.Compressor.Name, digest))
		}
	}
	sort.Strings(out)
	return out
}

// Provenance is a SLSA provenance v1 predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ExternalParameters are what the user chose: the installable.
type ExternalParameters struct {
	Installable build.Installable `json:"installable"`
	// Command is the installable as typed on the command line.
	Command string `json:"command"`
}

// InternalParameters are what the builders used.
type InternalParameters struct {
	NixVersions []string `json:"nixVersions"`
	Systems     []string `json:"systems"`
	DrvPath     string   `json:"drvPath"`
	Compressor  string   `json:"compressor,omitempty"`
}

// ResourceDescriptor is an in-toto resource descriptor (a flake input).
type ResourceDescriptor struct {
	Name        string            `json:"name"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RunDetails say who built it and when.
type RunDetails struct {
	Builder  SLSABuilder  `json:"builder"`
	Metadata SLSAMetadata `json:"metadata,omitempty"`
}

// SLSABuilder identifies the build platform.
type SLSABuilder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// SLSAMetadata of the run; StartedOn comes from SOURCE_DATE_EPOCH or the
// image's created date, never from the clock.
type SLSAMetadata struct {
	InvocationID string `json:"invocationId,omitempty"`
	StartedOn    string `json:"startedOn,omitempty"`
}

// ProvenanceInput is what Provenance is made from.
type ProvenanceInput struct {
	Records []*build.Record
	// FlakeLock is the flake.lock's content, when the image is a flake.
	FlakeLock []byte
	// BuilderID and InvocationID name the CI platform and run.
	BuilderID, InvocationID string
	NixdockVersion          string
	Time                    time.Time
}

// DefaultBuilderID is the SLSA builder id outside CI.
const DefaultBuilderID = "https://github.com/nixdock/nixdock-action"

// NewProvenance builds the SLSA provenance v1 predicate.
func NewProvenance(in ProvenanceInput) (*Provenance, error) {
	if len(in.Records) == 0 {
		return nil, errors.New("provenance needs the build records (--records)")
	}
	r := in.Records[0]
	p := &Provenance{}
	p.BuildDefinition.BuildType = BuildType
	p.BuildDefinition.ExternalParameters = ExternalParameters{Installable: r.Installable, Command: r.Installable.String()}
	ip := &p.BuildDefinition.InternalParameters
	ip.DrvPath, ip.Compressor = r.DrvPath, r.Image.Compressor.Name
	ip.NixVersions = uniqueSorted(in.Records, func(r *build.Record) string { return r.NixVersion })
	ip.Systems = uniqueSorted(in.Records, func(r *build.Record) string { return r.System })
	if len(in.FlakeLock) > 0 {
		deps, err := FlakeInputs(in.FlakeLock)
		if err != nil {
			return nil, fmt.Errorf("flake.lock: %w", err)
		}
		p.BuildDefinition.ResolvedDependencies = deps
	}
	p.RunDetails.Builder.ID = in.BuilderID
	if p.RunDetails.Builder.ID == "" {
		p.RunDetails.Builder.ID = DefaultBuilderID
	}
	if in.NixdockVersion != "" {
		p.RunDetails.Builder.Version = map[string]string{"nixdock": in.NixdockVersion}
	}
	p.RunDetails.Metadata.InvocationID = in.InvocationID
	if !in.Time.IsZero() {
		p.RunDetails.Metadata.StartedOn = in.Time.UTC().Format(time.RFC3339)
	}
	return p, nil
}

func uniqueSorted(records []*build.Record, f func(*build.Record) string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, r := range records {
		if v := f(r); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// FlakeInputs lists a flake.lock's locked inputs (every node but the root),
// sorted by node name, with the narHash as an in-toto digest (sha256 hex of
// the NAR) and the locked revision as gitCommit.
func FlakeInputs(lock []byte) ([]ResourceDescriptor, error) {
	var f struct {
		Nodes map[string]struct {
			Locked map[string]any `json:"locked"`
		} `json:"nodes"`
		Root string `json:"root"`
	}
	if err := json.Unmarshal(lock, &f); err != nil {
		return nil, fmt.Errorf("not a flake.lock: %w", err)
	}
	if f.Nodes == nil {
		return nil, errors.New("not a flake.lock: no nodes")
	}
	names := make([]string, 0, len(f.Nodes))
	for n := range f.Nodes {
		if n != f.Root {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []ResourceDescriptor{}
	for _, n := range names {
		locked := f.Nodes[n].Locked
		if locked == nil {
			continue
		}
		d := ResourceDescriptor{Name: n, URI: lockedURI(locked), Digest: map[string]string{}, Annotations: map[string]string{}}
		if nh, ok := locked["narHash"].(string); ok {
			d.Annotations["narHash"] = nh
			if h, err := sriToHex(nh); err == nil {
				d.Digest["sha256"] = h
			}
		}
		if rev, ok := locked["rev"].(string); ok {
			d.Digest["gitCommit"] = rev
		}
		if lm, ok := locked["lastModified"].(float64); ok {
			d.Annotations["lastModified"] = strconv.FormatInt(int64(lm), 10)
		}
		out = append(out, d)
	}
	return out, nil
}

// lockedURI writes a locked flake input as a flake reference.
func lockedURI(l map[string]any) string {
	s := func(k string) string { v, _ := l[k].(string); return v }
	switch s("type") {
	case "github", "gitlab", "sourcehut":
		return fmt.Sprintf("%s:%s/%s/%s", s("type"), s("owner"), s("repo"), s("rev"))
	case "git":
		return fmt.Sprintf("git+%s?rev=%s", s("url"), s("rev"))
	case "path":
		return "path:" + s("path")
	case "tarball", "file":
		return s("url")
	}
	return s("type") + ":" + s("url")
}

// sriToHex turns "sha256-<base64>" into hex.
func sriToHex(sri string) (string, error) {
	b64, ok := strings.CutPrefix(sri, "sha256-")
	if !ok {
		return "", fmt.Errorf("hash %q is not sha256 SRI", sri)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return "", fmt.Errorf("hash %q is not sha256 SRI", sri)
	}
	return hex.EncodeToString(raw), nil
}

// BuildTime is the time predicates carry: SOURCE_DATE_EPOCH when set
// (sourceDateEpoch, as read from the environment), else the image's created
// date (RFC 3339), else the zero time (the field is left out).
func BuildTime(sourceDateEpoch, created string) (time.Time, error) {
	if sourceDateEpoch != "" {
		n, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", sourceDateEpoch)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if created == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return time.Time{}, fmt.Errorf("image created date %q: %w", created, err)
	}
	return t.UTC(), nil
}

// MarshalPredicate encodes a predicate deterministically.
func MarshalPredicate(v any) (json.RawMessage, error) { return marshal(v) }
