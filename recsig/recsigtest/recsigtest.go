package recsigtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net/url"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
)

// CA is a root certificate authority.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// RootPEM is the root certificate, the trust root to pass.
	RootPEM []byte
}

// NewCA makes a CA; it panics on failure (tests only, crypto/rand).
func NewCA() *CA {
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test fulcio"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key))
	return &CA{Cert: must(x509.ParseCertificate(der)), key: key,
		RootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Identity is what a certificate says of its holder.
type Identity struct {
	SAN, Issuer, RunURI string
}

// Issue returns an ephemeral key and its ten-minute certificate (PEM) for id,
// as Fulcio issues for an OIDC token.
func (ca *CA) Issue(id Identity) (signature.SignerVerifier, []byte) {
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	u := must(url.Parse(id.SAN))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(9 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs: []*url.URL{u}}
	ext := func(oid asn1.ObjectIdentifier, v string) pkix.Extension {
		return pkix.Extension{Id: oid, Value: must(asn1.Marshal(v))}
	}
	tmpl.ExtraExtensions = []pkix.Extension{ext(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, id.Issuer)}
	if id.RunURI != "" {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 21}, id.RunURI))
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key))
	sv := must(signature.LoadECDSASignerVerifier(key, crypto.SHA256))
	return sv, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
