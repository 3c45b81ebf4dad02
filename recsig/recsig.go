package recsig

import (
	"bytes"
	"crypto"
	"crypto/x509"
	_ "embed"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/nixdock/nixdock-action/record"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

const (
	// PayloadType is the DSSE payload type of a signed record.
	PayloadType = "application/vnd.nixdock.record+json"
	// BundleMediaType is the Sigstore bundle v0.3 media type.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// Suffix is appended to a record's path to name its signature.
	Suffix = ".sigstore.json"
	// maxBundle bounds what Verify parses.
	maxBundle = 4 << 20
)

// Fulcio's certificate extensions (docs/oid-info.md in sigstore/fulcio).
var (
	oidIssuerV1     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidSignerDigest = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 10}
	oidSourceRepo   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 12}
	oidRunURI       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 21}
)

// Path is where the signature of the record at recordPath lives.
func Path(recordPath string) string { return recordPath + Suffix }

// bundle is the part of a Sigstore bundle v0.3 recsig writes and reads.
type bundle struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		Certificate struct {
			RawBytes []byte `json:"rawBytes"`
		} `json:"certificate"`
		TlogEntries []json.RawMessage `json:"tlogEntries"`
	} `json:"verificationMaterial"`
	DSSEEnvelope envelope `json:"dsseEnvelope"`
}

type envelope struct {
	Payload     []byte `json:"payload"`
	PayloadType string `json:"payloadType"`
	Signatures  []struct {
		Sig []byte `json:"sig"`
	} `json:"signatures"`
}

// pae is DSSE's pre-authentication encoding: what is signed.
func pae(typ string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 " + strconv.Itoa(len(typ)) + " " + typ + " " + strconv.Itoa(len(body)) + " ")
	b.Write(body)
	return b.Bytes()
}

// Sign signs record's bytes with signer, whose public key certPEM (a
// Fulcio certificate, the leaf first when a chain follows) certifies, and
// returns the bundle to write at Path.
func Sign(record []byte, signer signature.Signer, certPEM []byte) ([]byte, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("signing a record: the signing certificate is not PEM")
	}
	sig, err := signer.SignMessage(bytes.NewReader(pae(PayloadType, record)))
	if err != nil {
		return nil, fmt.Errorf("signing a record: %w", err)
	}
	var b bundle
	b.MediaType = BundleMediaType
	b.VerificationMaterial.Certificate.RawBytes = block.Bytes
	b.VerificationMaterial.TlogEntries = []json.RawMessage{}
	b.DSSEEnvelope = envelope{Payload: record, PayloadType: PayloadType}
	b.DSSEEnvelope.Signatures = append(b.DSSEEnvelope.Signatures, struct {
		Sig []byte `json:"sig"`
	}{sig})
	return json.Marshal(b)
}

// SignFile signs the record file at path (Sign) and writes the bundle at
// Path(path), returning that path.
func SignFile(path string, signer signature.Signer, certPEM []byte) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading record: %w", err)
	}
	sig, err := Sign(data, signer, certPEM)
	if err != nil {
		return "", err
	}
	out := Path(path)
	if err := os.WriteFile(out, sig, 0o644); err != nil {
		return "", fmt.Errorf("writing record signature: %w", err)
	}
	return out, nil
}

// Options say what a record signature must prove.
type Options struct {
	// Roots are the trusted Fulcio roots; Intermediates optional.
	Roots, Intermediates *x509.CertPool
	// Identity is the exact certificate identity (SAN URI or email), or
	// IdentityRegexp matches it (anchor it). One of them is required.
	Identity       string
	IdentityRegexp *regexp.Regexp
	// Issuer is the exact OIDC issuer (required).
	Issuer string
	// SignerDigest, when set, is the commit the certificate's Build Signer
	// Digest must name (GitHub's job_workflow_sha): it pins the code of
	// the signing workflow, whatever ref the identity names.
	SignerDigest string
	// SourceRepository, when set, is the certificate's Source Repository
	// URI, exactly: the repository whose run signed.
	SourceRepository string
	// RunURIPrefix, when set, must begin the certificate's run invocation
	// URI: ".../actions/runs/ID/" (ending in /) binds a signature to one
	// run (any attempt), so a record signed in another run does not count.
	RunURIPrefix string
}

// Identity is a verified signer.
type Identity struct {
	// Subject is the certificate's SAN (URI or email); Issuer the OIDC
	// issuer; the others Fulcio's extensions when the certificate has
	// them: the run invocation URI, the source repository URI and the
	// signing workflow's commit.
	Subject          string `json:"subject"`
	Issuer           string `json:"issuer"`
	RunURI           string `json:"runURI,omitempty"`
	SourceRepository string `json:"sourceRepository,omitempty"`
	SignerDigest     string `json:"signerDigest,omitempty"`
}

// String is the identity in one line: the subject, and the run.
func (i Identity) String() string {
	if i.RunURI != "" {
		return i.Subject + " (run " + i.RunURI + ")"
	}
	return i.Subject
}

// Verify verifies that sig (a bundle from Sign) signs exactly record and
// that its certificate is a Fulcio certificate for the expected identity.
func Verify(record, sig []byte, opts Options) (Identity, error) {
	if opts.Roots == nil {
		return Identity{}, errors.New("no trusted Fulcio roots were given")
	}
	if opts.Identity == "" && opts.IdentityRegexp == nil {
		return Identity{}, errors.New("no expected signer identity was given")
	}
	if opts.Issuer == "" {
		return Identity{}, errors.New("no expected OIDC issuer was given")
	}
	if len(sig) > maxBundle {
		return Identity{}, fmt.Errorf("the signature bundle is larger than %d bytes", maxBundle)
	}
	var b bundle
	if err := json.Unmarshal(sig, &b); err != nil {
		return Identity{}, fmt.Errorf("the signature bundle is not JSON: %w", err)
	}
	env := b.DSSEEnvelope
	switch {
	case b.MediaType != BundleMediaType:
		return Identity{}, fmt.Errorf("the signature bundle's media type is %q, not %q", b.MediaType, BundleMediaType)
	case env.PayloadType != PayloadType:
		return Identity{}, fmt.Errorf("the signature signs a %q, not a build record", env.PayloadType)
	case len(env.Signatures) != 1:
		return Identity{}, fmt.Errorf("the signature bundle has %d signatures, want 1", len(env.Signatures))
	case !bytes.Equal(env.Payload, record):
		return Identity{}, errors.New("the signature is of another record: the signed bytes differ from the record's")
	}
	cert, err := x509.ParseCertificate(b.VerificationMaterial.Certificate.RawBytes)
	if err != nil {
		return Identity{}, fmt.Errorf("the signing certificate: %w", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: opts.Roots, Intermediates: opts.Intermediates,
		CurrentTime: cert.NotBefore, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
		return Identity{}, fmt.Errorf("the signing certificate does not chain to the trusted Fulcio roots: %w", err)
	}
	v, err := signature.LoadVerifier(cert.PublicKey, crypto.SHA256)
	if err != nil {
		return Identity{}, fmt.Errorf("the signing certificate's key: %w", err)
	}
	if err := v.VerifySignature(bytes.NewReader(env.Signatures[0].Sig), bytes.NewReader(pae(env.PayloadType, env.Payload)), options.NoOpOptionImpl{}); err != nil {
		return Identity{}, fmt.Errorf("the record's signature does not verify: %w", err)
	}
	id, err := identity(cert)
	if err != nil {
		return Identity{}, err
	}
	if opts.Identity != "" && id.Subject != opts.Identity || opts.IdentityRegexp != nil && !opts.IdentityRegexp.MatchString(id.Subject) {
		return Identity{}, fmt.Errorf("the record was signed by %q, not the expected identity", id.Subject)
	}
	if id.Issuer != opts.Issuer {
		return Identity{}, fmt.Errorf("the record's signer was vouched for by OIDC issuer %q, not %q", id.Issuer, opts.Issuer)
	}
	if err := opts.checkProvenance(id); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// ReadRecords reads the records and, when opts is set, verifies the
// signature next to each (Path) over the record's exact bytes: the
// verified identities, the zero Identity for a record without a
// signature. A signature
// that does not verify is an error, not an unsigned record.
func ReadRecords(paths []string, opts *Options) ([]*record.Record, []Identity, error) {
	recs := make([]*record.Record, len(paths))
	var ids []Identity
	if opts != nil {
		ids = make([]Identity, len(paths))
	}
	for i, p := range paths {
		// Stat first: reading a FIFO with no writer would block forever.
		if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("record %s: not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("reading record: %w", err)
		}
		if recs[i], err = record.Parse(data); err != nil {
			return nil, nil, fmt.Errorf("record %s: %w", p, err)
		}
		if opts == nil {
			continue
		}
		if ids[i], _, err = VerifyFile(p, data, *opts); err != nil {
			return nil, nil, err
		}
	}
	return recs, ids, nil
}

// checkProvenance checks where and from which code the signer ran.
// Repository names compare case-insensitively, as GitHub treats them.
func (o Options) checkProvenance(id Identity) error {
	if o.SignerDigest != "" {
		switch {
		case id.SignerDigest == "":
			return errors.New("the signing certificate names no workflow commit (Build Signer Digest, 1.3.6.1.4.1.57264.1.10)")
		case !strings.EqualFold(id.SignerDigest, o.SignerDigest):
			return fmt.Errorf("the record was signed by the workflow at commit %q, not %q", id.SignerDigest, o.SignerDigest)
		}
	}
	if o.SourceRepository != "" {
		switch {
		case id.SourceRepository == "":
			return errors.New("the signing certificate names no repository (Source Repository URI, 1.3.6.1.4.1.57264.1.12)")
		case !strings.EqualFold(id.SourceRepository, o.SourceRepository):
			return fmt.Errorf("the record was signed in a run of %q, not of %q", id.SourceRepository, o.SourceRepository)
		}
	}
	if o.RunURIPrefix != "" {
		switch {
		case !strings.HasSuffix(o.RunURIPrefix, "/"):
			// Without it, run 7 would match runs 70 to 79.
			return fmt.Errorf("the expected run URI prefix %q does not end in /", o.RunURIPrefix)
		case id.RunURI == "":
			return errors.New("the signing certificate names no run (Run Invocation URI, 1.3.6.1.4.1.57264.1.21)")
		case len(id.RunURI) < len(o.RunURIPrefix) || !strings.EqualFold(id.RunURI[:len(o.RunURIPrefix)], o.RunURIPrefix):
			return fmt.Errorf("the record was signed in run %q, not in %q", id.RunURI, o.RunURIPrefix)
		}
	}
	return nil
}

// VerifyFile verifies the signature next to the record file recordPath
// (Path), whose bytes the caller read once and parsed: record. Without a
// signature file it returns false and no error.
func VerifyFile(recordPath string, record []byte, opts Options) (Identity, bool, error) {
	sigPath := Path(recordPath)
	fi, err := os.Stat(sigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Identity{}, false, nil
	}
	if err == nil && !fi.Mode().IsRegular() {
		// Reading a FIFO with no writer would block forever.
		return Identity{}, false, fmt.Errorf("record signature %s: not a regular file", sigPath)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		return Identity{}, false, fmt.Errorf("reading record signature: %w", err)
	}
	id, err := Verify(record, sig, opts)
	if err != nil {
		return Identity{}, false, fmt.Errorf("record %s: its signature %s: %w", recordPath, sigPath, err)
	}
	return id, true, nil
}

// identity reads the SAN and Fulcio's extensions.
func identity(cert *x509.Certificate) (Identity, error) {
	var id Identity
	switch {
	case len(cert.URIs) > 0:
		id.Subject = cert.URIs[0].String()
	case len(cert.EmailAddresses) > 0:
		id.Subject = cert.EmailAddresses[0]
	default:
		return id, errors.New("the signing certificate names no identity (no URI or email SAN)")
	}
	// Fulcio's v2 extensions are DER strings; v1's issuer is the raw
	// string, used only when the v2 one is absent.
	v2 := []struct {
		oid  asn1.ObjectIdentifier
		into *string
		what string
	}{
		{oidIssuerV2, &id.Issuer, "OIDC issuer"},
		{oidRunURI, &id.RunURI, "run invocation URI"},
		{oidSourceRepo, &id.SourceRepository, "source repository URI"},
		{oidSignerDigest, &id.SignerDigest, "build signer digest"},
	}
	var issuerV1 string
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidIssuerV1) {
			issuerV1 = string(e.Value)
		}
		for _, x := range v2 {
			if !e.Id.Equal(x.oid) {
				continue
			}
			if _, err := asn1.Unmarshal(e.Value, x.into); err != nil {
				return id, fmt.Errorf("the signing certificate's %s extension: %w", x.what, err)
			}
		}
	}
	if id.Issuer == "" {
		id.Issuer = issuerV1
	}
	if id.Issuer == "" {
		return id, errors.New("the signing certificate names no OIDC issuer: not a Fulcio certificate")
	}
	// The identity is shown in reports and attestations: no control
	// characters, whatever a CA put in.
	for _, v := range []string{id.Subject, id.Issuer, id.RunURI, id.SourceRepository, id.SignerDigest} {
		if strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return id, fmt.Errorf("the signing certificate's identity %q has control characters", v)
		}
	}
	return id, nil
}

// publicGood are Sigstore's public Fulcio certificates: what the public
// instance's certificates chain to (see the file's header).
//
//go:embed fulcio-public-good.pem
var publicGood []byte

// PublicGood returns Sigstore's public-good Fulcio roots and intermediates,
// a snapshot embedded in nixdock (sigstore-go embeds only TUF metadata, not
// these certificates, and fetching them needs the network).
func PublicGood() (roots, intermediates *x509.CertPool, err error) {
	return LoadTrust(publicGood)
}

// LoadTrust reads PEM certificates: the self-signed ones are roots, the
// others intermediates (a Fulcio chain, or a --record-trust-root file).
func LoadTrust(pemBytes []byte) (roots, intermediates *x509.CertPool, err error) {
	roots, intermediates = x509.NewCertPool(), x509.NewCertPool()
	nroots := 0
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("a trust root certificate: %w", err)
		}
		if bytes.Equal(cert.RawSubject, cert.RawIssuer) && cert.CheckSignatureFrom(cert) == nil {
			roots.AddCert(cert)
			nroots++
		} else {
			intermediates.AddCert(cert)
		}
	}
	if nroots == 0 {
		return nil, nil, errors.New("no self-signed root certificate (PEM) in the trust root")
	}
	return roots, intermediates, nil
}
