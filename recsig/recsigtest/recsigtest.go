package recsigtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// Identity is what a certificate says of its holder: its SAN, OIDC issuer
// and, when set, Fulcio's run invocation URI, source repository URI and
// build signer digest extensions.
type Identity struct {
	SAN, Issuer, RunURI            string
	SourceRepository, SignerDigest string
}

// Issue returns an ephemeral key and its ten-minute certificate (PEM) for id,
// as Fulcio issues for an OIDC token.
func (ca *CA) Issue(id Identity) (signature.SignerVerifier, []byte) {
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	return must(signature.LoadECDSASignerVerifier(key, crypto.SHA256)), ca.certify(&key.PublicKey, id)
}

// certify is the PEM certificate of pub for id.
func (ca *CA) certify(pub crypto.PublicKey, id Identity) []byte {
	u := must(url.Parse(id.SAN))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(9 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs: []*url.URL{u}}
	ext := func(oid asn1.ObjectIdentifier, v string) pkix.Extension {
		return pkix.Extension{Id: oid, Value: must(asn1.Marshal(v))}
	}
	tmpl.ExtraExtensions = []pkix.Extension{ext(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, id.Issuer)}
	for _, e := range []struct {
		arc   int
		value string
	}{{10, id.SignerDigest}, {12, id.SourceRepository}, {21, id.RunURI}} {
		if e.value != "" {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, e.arc}, e.value))
		}
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key))
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Fulcio is a stand-in for Fulcio's v1 signingCert endpoint: it certifies
// the request's public key for the identity the bearer token's claims name
// as Fulcio does for a GitHub Actions token (SAN https://github.com/ +
// job_workflow_ref, issuer iss, the run's URI, the repository's URI,
// job_workflow_sha). It does not verify the token: the real Fulcio does,
// and tests make their own.
func (ca *CA) Fulcio() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PublicKey struct {
				Content []byte `json:"content"`
			} `json:"publicKey"`
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		parts := strings.Split(tok, ".")
		var claims struct {
			Iss            string `json:"iss"`
			JobWorkflowRef string `json:"job_workflow_ref"`
			JobWorkflowSHA string `json:"job_workflow_sha"`
			Repository     string `json:"repository"`
			RunID          string `json:"run_id"`
			RunAttempt     string `json:"run_attempt"`
		}
		if r.URL.Path != "/api/v1/signingCert" || json.NewDecoder(r.Body).Decode(&req) != nil || len(parts) != 3 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil || json.Unmarshal(raw, &claims) != nil || claims.JobWorkflowRef == "" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		block, _ := pem.Decode(req.PublicKey.Content)
		if block == nil {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		id := Identity{SAN: "https://github.com/" + claims.JobWorkflowRef, Issuer: claims.Iss,
			SignerDigest: claims.JobWorkflowSHA}
		if claims.Repository != "" {
			id.SourceRepository = "https://github.com/" + claims.Repository
		}
		if claims.RunID != "" {
			id.RunURI = "https://github.com/" + claims.Repository + "/actions/runs/" + claims.RunID + "/attempts/" + claims.RunAttempt
		}
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(append(ca.certify(pub, id), ca.RootPEM...))
	})
}

// Claims are the GitHub Actions token claims the stand-in Fulcio reads.
type Claims struct {
	// JobWorkflowRef is OWNER/REPO/.github/workflows/FILE@REF, the
	// workflow file whose job asks; JobWorkflowSHA its commit.
	JobWorkflowRef, JobWorkflowSHA string
	// Repository (OWNER/REPO) runs RunID.
	Repository, RunID string
}

// Token is an unsigned JWT with GitHub Actions' claims c (attempt 1), for
// the stand-in Fulcio.
func Token(c Claims) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]string{
		"iss": "https://token.actions.githubusercontent.com", "aud": "sigstore",
		"sub": "repo:" + c.Repository + ":ref:refs/heads/main", "job_workflow_ref": c.JobWorkflowRef,
		"job_workflow_sha": c.JobWorkflowSHA, "repository": c.Repository, "run_id": c.RunID, "run_attempt": "1"})
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(claims) + "." + enc([]byte("signature"))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Services are stand-ins, on loopback, for what keyless signing talks to
// and cannot reach offline: GitHub's OIDC token endpoint and Fulcio.
type Services struct {
	// Env is the runner environment GitHub gives a job with id-token:
	// write (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN), pointing at the
	// token endpoint.
	Env map[string]string
	// FulcioURL is the stand-in Fulcio (the CA); RootsFile a PEM file of
	// the CA's root.
	FulcioURL, RootsFile string
}

// Serve starts Services for ca: the token endpoint hands a token with
// claims c to any request bearing the request token; they stop when t
// ends.
func (ca *CA) Serve(t testing.TB, c Claims) Services {
	t.Helper()
	const requestToken = "stand-in-request-token"
	tok := Token(c)
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"value":%q}`, tok)
	}))
	t.Cleanup(tokens.Close)
	fulcio := httptest.NewServer(ca.Fulcio())
	t.Cleanup(fulcio.Close)
	roots := filepath.Join(t.TempDir(), "fulcio.pem")
	if err := os.WriteFile(roots, ca.RootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return Services{
		Env: map[string]string{
			"ACTIONS_ID_TOKEN_REQUEST_URL":   tokens.URL + "/token?api-version=2.0",
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken,
		},
		FulcioURL: fulcio.URL, RootsFile: roots,
	}
}
