package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// SBOMArtifactCheck is what verify-signature found when it fetched the SBOM
// artifact an sbom-ref attestation names: the artifact as tagged
// (sha256-<hex>.sbom, where users and tools find it) and as attested (by
// digest), and the SBOM blob's own digest and size, hashed as downloaded.
type SBOMArtifactCheck struct {
	// Artifact is the attested artifact manifest (repository@sha256:...).
	Artifact string `json:"artifact"`
	// Tag is the artifact's tag and TagDigest the manifest it points to
	// now ("" when the tag is missing).
	Tag       string `json:"tag"`
	TagDigest string `json:"tagDigest"`
	// Digest and Size are those of the SBOM blob as downloaded ("" and 0
	// when it could not be fetched).
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// Verified is true when the tag points at the attested artifact and
	// its SBOM has the attested digest and size.
	Verified bool `json:"verified"`
}

// checkSBOMArtifact fetches the SBOM artifact the attestation names and
// compares it with the attestation. A missing or different artifact is a
// policy problem (returned as strings); only registry failures are errors.
func checkSBOMArtifact(ctx context.Context, image name.Digest, ref *SBOMRef, reg Registry) (*SBOMArtifactCheck, []string, error) {
	c := &SBOMArtifactCheck{Artifact: ref.Artifact}
	ropts := reg.RemoteOptions(ctx)
	tag, err := SBOMTag(image)
	if err != nil {
		return nil, nil, err
	}
	c.Tag = tag.String()
	var problems []string
	art, err := name.NewDigest(ref.Artifact, reg.nameOptions()...)
	if err != nil {
		return c, []string{fmt.Sprintf("the sbom-ref attestation names artifact %q, which is no digest reference: %v", ref.Artifact, err)}, nil
	}
	if desc, err := remote.Head(tag, ropts...); err != nil {
		if !isNotFound(err) {
			return nil, nil, fmt.Errorf("reading the SBOM artifact tag %s: %w", tag, err)
		}
		problems = append(problems, fmt.Sprintf("the SBOM artifact tag %s is missing", tag))
	} else {
		c.TagDigest = desc.Digest.String()
		if c.TagDigest != art.DigestStr() {
			problems = append(problems, fmt.Sprintf("the SBOM artifact tag %s points at %s, the attestation names %s", tag, c.TagDigest, art.DigestStr()))
		}
	}
	more, err := c.fetchBlob(art, ref, ropts)
	if err != nil {
		return nil, nil, err
	}
	problems = append(problems, more...)
	c.Verified = len(problems) == 0
	return c, problems, nil
}

// fetchBlob reads the attested artifact's manifest and hashes its SBOM
// layer as it streams.
func (c *SBOMArtifactCheck) fetchBlob(art name.Digest, ref *SBOMRef, ropts []remote.Option) ([]string, error) {
	desc, err := remote.Get(art, ropts...)
	if err != nil {
		if isNotFound(err) {
			return []string{fmt.Sprintf("the attested SBOM artifact %s is missing", art)}, nil
		}
		return nil, fmt.Errorf("reading the SBOM artifact %s: %w", art, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil || len(m.Layers) != 1 {
		return []string{fmt.Sprintf("the SBOM artifact %s is not a one-layer artifact manifest", art)}, nil
	}
	l, err := remote.Layer(art.Repository.Digest(m.Layers[0].Digest.String()), ropts...)
	if err != nil {
		return nil, fmt.Errorf("reading the SBOM blob of %s: %w", art, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		if isNotFound(err) {
			return []string{fmt.Sprintf("the SBOM blob %s of %s is missing", m.Layers[0].Digest, art)}, nil
		}
		return nil, fmt.Errorf("reading the SBOM blob of %s: %w", art, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return nil, fmt.Errorf("downloading the SBOM blob of %s: %w", art, err)
	}
	c.Digest, c.Size = "sha256:"+hex.EncodeToString(h.Sum(nil)), n
	if c.Digest != ref.Digest || c.Size != ref.Size {
		return []string{fmt.Sprintf("the SBOM in %s is %s (%d bytes), the attestation says %s (%d bytes)", art, c.Digest, c.Size, ref.Digest, ref.Size)}, nil
	}
	return nil, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
