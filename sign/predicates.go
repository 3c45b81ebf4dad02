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

	"github.com/nixdock/nixdock-action/agree"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/recsig"
)

// Predicate types nixdock attests; every field is in docs/attestations.md.
const (
	PredicateSPDX         = "https://spdx.dev/Document"
	PredicateCycloneDX    = "https://cyclonedx.org/bom"
	PredicateReproducible = "https://github.com/nixdock/nixdock-action/attestations/reproducible/v1"
	PredicateSLSA1        = "https://slsa.dev/provenance/v1"
	PredicateSBOMRef      = "https://github.com/nixdock/nixdock-action/attestations/sbom-ref/v1"
	// BuildType is the SLSA build type of a Nix image build.
	BuildType = "https://github.com/nixdock/nixdock-action/buildtypes/nix-image/v1"
	// StatementType is in-toto Statement v1, which cosign v2 and v3 both
	// verify (cosign verify-attestation; tested with both CLIs).
	StatementType = "https://in-toto.io/Statement/v1"
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
// (https://github.com/nixdock/nixdock-action/attestations/reproducible/v1). It is agree.Decide's
// decision about the signed digest, as signed.
type Reproducible struct {
	// Verdict is "reproducible" when the decision met the policy, else
	// "unverified".
	Verdict         string `json:"verdict"`
	AllowUnverified bool   `json:"allowUnverified"`
	// Reasons say why the verdict is "unverified".
	Reasons     []string `json:"reasons,omitempty"`
	MinBuilders int      `json:"minBuilders"`
	MinHosts    int      `json:"minHosts,omitempty"`
	// AgreedBuilders counts the builders that count (agree.Builder.Counts):
	// separate builds of their own that produced the signed image.
	AgreedBuilders int `json:"agreedBuilders"`
	// AgreedHosts counts the distinct hosts they ran on.
	AgreedHosts int            `json:"agreedHosts"`
	DrvPath     string         `json:"drvPath,omitempty"`
	Digests     AgreedDigests  `json:"digests"`
	Builders    []BuilderBrief `json:"builders"`
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

// BuilderBrief is one build record in brief, with its part in the decision.
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
	// Host, Origin, StartedAt and FinishedAt come from the record's origin.
	Host       string `json:"host,omitempty"`
	Origin     string `json:"origin"`
	StartedAt  string `json:"startedAt,omitempty"`
	FinishedAt string `json:"finishedAt,omitempty"`
	// Counts, Why, Isolation, Identity and Signer are agree's decision.
	Counts    bool   `json:"counts"`
	Why       string `json:"why"`
	Isolation string `json:"isolation,omitempty"`
	Identity  string `json:"identity"`
	Signer    string `json:"signer,omitempty"`
}

// UnverifiedError is a refusal to sign: the records do not prove the digest.
// It names no flag: the caller says how to sign anyway.
type UnverifiedError struct {
	Digest  string
	Reasons []string
}

func (e *UnverifiedError) Error() string {
	return fmt.Sprintf("refusing to sign %s: %s", e.Digest, strings.Join(e.Reasons, "; "))
}

// RecordPolicy is what signing requires of the records.
type RecordPolicy struct {
	MinBuilders, MinHosts int
	// AllowUnverified signs an unproven digest anyway, saying so in the
	// predicate.
	AllowUnverified bool
	// Identities and RequireSigned are agree.Policy's: the verified
	// signers of the records, and whether only signed records count.
	Identities    []recsig.Identity
	RequireSigned bool
}

// CheckRecords decides (agree.Decide) whether the records prove digest,
// the manifest digest being signed, and returns the reproducibility
// predicate. Unless policy.AllowUnverified, an unproven digest is an
// *UnverifiedError.
func CheckRecords(records []*record.Record, digest string, policy RecordPolicy) (*Reproducible, error) {
	if policy.MinBuilders < 1 {
		// Zero would call an image signed by nobody "reproducible".
		return nil, fmt.Errorf("a policy of %d builders: want at least 1", policy.MinBuilders)
	}
	d := agree.Decide(records, agree.Policy{MinBuilders: policy.MinBuilders, MinHosts: policy.MinHosts, Digest: digest,
		Identities: policy.Identities, RequireSigned: policy.RequireSigned})
	p := &Reproducible{Verdict: VerdictReproducible, AllowUnverified: policy.AllowUnverified,
		MinBuilders: policy.MinBuilders, MinHosts: policy.MinHosts,
		AgreedBuilders: d.Counted, AgreedHosts: d.Hosts, DrvPath: d.DrvPath,
		Digests:  AgreedDigests{Manifest: digest, Config: d.Digests.Config, Compressor: d.Digests.Compressor, DiffIDs: d.Digests.DiffIDs},
		Builders: []BuilderBrief{}}
	for i, r := range records {
		p.Builders = append(p.Builders, brief(r, d.Builders[i]))
	}
	sort.SliceStable(p.Builders, func(i, j int) bool {
		a, b := p.Builders[i], p.Builders[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.ManifestDigest < b.ManifestDigest
	})
	if d.Agreed {
		return p, nil
	}
	p.Verdict, p.Reasons = VerdictUnverified, d.Reasons
	if !policy.AllowUnverified {
		return nil, &UnverifiedError{Digest: digest, Reasons: d.Reasons}
	}
	return p, nil
}

func brief(r *record.Record, b agree.Builder) BuilderBrief {
	out := BuilderBrief{
		ID: r.Builder.ID, System: r.System, OS: r.Builder.OS, Kernel: r.Builder.Kernel,
		RunnerName: r.Builder.RunnerName, ImageOS: r.Builder.ImageOS, WorkflowRun: r.Builder.Workflow,
		NixVersion: r.NixVersion, NixdockVersion: r.Nixdock, Store: r.Store, Variation: r.Variation,
		DrvPath: r.DrvPath, ManifestDigest: r.Image.ManifestDigest,
		Host: b.Host, Origin: b.Origin, Counts: b.Counts, Why: b.Why, Isolation: b.Isolation, Identity: b.Identity,
		Signer: b.Signer,
	}
	if r.Origin != nil {
		out.StartedAt, out.FinishedAt = r.Origin.StartedAt, r.Origin.FinishedAt
	}
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
	Installable record.Installable `json:"installable"`
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

// SLSAMetadata of the run: StartedOn and FinishedOn are the earliest start
// and the latest finish of the builds, as their records give them.
type SLSAMetadata struct {
	InvocationID string `json:"invocationId,omitempty"`
	StartedOn    string `json:"startedOn,omitempty"`
	FinishedOn   string `json:"finishedOn,omitempty"`
}

// ProvenanceInput is what Provenance is made from.
type ProvenanceInput struct {
	Records []*record.Record
	// FlakeLock is the flake.lock's content, when the image is a flake.
	FlakeLock []byte
	// BuilderID and InvocationID name what ran the build and the run
	// (empty BuilderID: LocalBuilderID).
	BuilderID, InvocationID string
	NixdockVersion          string
	// Source is the repository the installable came from, when known (in
	// GitHub Actions: GITHUB_SERVER_URL/GITHUB_REPOSITORY at GITHUB_SHA).
	Source *ResourceDescriptor
}

// LocalBuilderID is the SLSA builder id of builds signed outside CI. It is
// never the Action's id, so a policy that trusts only the Action's builds
// refuses locally signed images.
const LocalBuilderID = "https://github.com/nixdock/nixdock-action/builders/local/v1"

// NewProvenance builds the SLSA provenance v1 predicate.
func NewProvenance(in ProvenanceInput) (*Provenance, error) {
	if len(in.Records) == 0 {
		return nil, errors.New("provenance needs the build records")
	}
	r := in.Records[0]
	p := &Provenance{}
	p.BuildDefinition.BuildType = BuildType
	p.BuildDefinition.ExternalParameters = ExternalParameters{Installable: r.Installable, Command: r.Installable.String()}
	ip := &p.BuildDefinition.InternalParameters
	ip.DrvPath, ip.Compressor = r.DrvPath, r.Image.Compressor.Name
	ip.NixVersions = uniqueSorted(in.Records, func(r *record.Record) string { return r.NixVersion })
	ip.Systems = uniqueSorted(in.Records, func(r *record.Record) string { return r.System })
	if in.Source != nil {
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies, *in.Source)
	}
	if len(in.FlakeLock) > 0 {
		deps, err := FlakeInputs(in.FlakeLock)
		if err != nil {
			return nil, fmt.Errorf("flake.lock: %w", err)
		}
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies, deps...)
	}
	p.RunDetails.Builder.ID = in.BuilderID
	if p.RunDetails.Builder.ID == "" {
		p.RunDetails.Builder.ID = LocalBuilderID
	}
	if in.NixdockVersion != "" {
		p.RunDetails.Builder.Version = map[string]string{"nixdock": in.NixdockVersion}
	}
	p.RunDetails.Metadata.InvocationID = in.InvocationID
	p.RunDetails.Metadata.StartedOn, p.RunDetails.Metadata.FinishedOn = buildTimes(in.Records)
	return p, nil
}

// buildTimes are the earliest start and the latest finish among the
// records' builds (RFC 3339 in UTC sorts as time).
func buildTimes(records []*record.Record) (started, finished string) {
	for _, r := range records {
		if r.Origin == nil {
			continue
		}
		if s := r.Origin.StartedAt; s != "" && (started == "" || s < started) {
			started = s
		}
		if f := r.Origin.FinishedAt; f > finished {
			finished = f
		}
	}
	return started, finished
}

func uniqueSorted(records []*record.Record, f func(*record.Record) string) []string {
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

// MarshalPredicate encodes a predicate deterministically.
func MarshalPredicate(v any) (json.RawMessage, error) { return marshal(v) }
