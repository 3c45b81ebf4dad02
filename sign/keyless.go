package sign

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/fulcio/pkg/api"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	"github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/oauthflow"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/nixdock/nixdock-action/internal/escape"
)

// Sigstore's public-good instances, cosign's defaults.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
	// Audience is the audience Fulcio accepts in an OIDC token.
	Audience = "sigstore"
)

// KeylessOptions tune KeylessSigner.
type KeylessOptions struct {
	FulcioURL, RekorURL string
	// Token is an OIDC identity token; empty fetches one from the GitHub
	// Actions token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN).
	Token string
	// Getenv reads the environment; nil is os.Getenv (tests replace it).
	Getenv func(string) string
	// HTTPClient is used for the token endpoint; nil is the default.
	HTTPClient *http.Client
	// Mask, when set, hears each secret (the token endpoint's bearer token,
	// the OIDC token) before it is first used, so the caller can hide it
	// from logs (an Actions ::add-mask::).
	Mask func(secret string)
}

// maxRemoteError is how much of a remote service's error text a message
// keeps.
const maxRemoteError = 200

// remoteError is err from a remote service (Fulcio, the token endpoint),
// whose text may echo the request: tokens redacted, cut to one short,
// escaped line.
func remoteError(what string, err error, secrets ...string) error {
	return fmt.Errorf("%s: %s", what, escape.Remote(err.Error(), maxRemoteError, secrets...))
}

func (o KeylessOptions) mask(secret string) {
	if o.Mask != nil && secret != "" {
		o.Mask(secret)
	}
}

// ErrNoActionsToken means no OIDC token can be had: not in GitHub Actions,
// or the workflow lacks `permissions: id-token: write`.
var ErrNoActionsToken = errors.New("keyless signing needs an OIDC token: run in GitHub Actions with `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)")

// ActionsIDToken asks GitHub Actions' token endpoint for an OIDC token with
// audience sigstore, as cosign does in Actions.
func ActionsIDToken(ctx context.Context, opts KeylessOptions) (string, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = osGetenv
	}
	if getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
		return "", ErrNoActionsToken
	}
	opts.mask(getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	aopts := []githubactions.Option{githubactions.WithGetenv(getenv)}
	if opts.HTTPClient != nil {
		aopts = append(aopts, githubactions.WithHTTPClient(opts.HTTPClient))
	}
	tok, err := githubactions.New(aopts...).GetIDToken(ctx, Audience)
	if err != nil {
		// go-githubactions puts the endpoint's response body in the error.
		return "", remoteError("getting the Actions OIDC token", err, getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	}
	opts.mask(tok)
	return tok, nil
}

// KeylessSigner makes an ephemeral key, gets a Fulcio certificate for it
// with the OIDC token (proving possession by signing the token's subject)
// and returns a signer that logs to Rekor.
func KeylessSigner(ctx context.Context, opts KeylessOptions) (*Signer, error) {
	tok := opts.Token
	opts.mask(tok)
	if tok == "" {
		var err error
		if tok, err = ActionsIDToken(ctx, opts); err != nil {
			return nil, err
		}
	}
	subject, claims, err := tokenSubject(tok)
	if err != nil {
		return nil, err
	}
	priv, err := cosign.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("generating an ephemeral key: %w", err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, err
	}
	proof, err := sv.SignMessage(strings.NewReader(subject))
	if err != nil {
		return nil, fmt.Errorf("signing the proof of possession: %w", err)
	}
	fulcioURL := or(opts.FulcioURL, DefaultFulcioURL)
	u, err := url.Parse(fulcioURL)
	if err != nil {
		return nil, fmt.Errorf("fulcio URL %q: %w", fulcioURL, err)
	}
	resp, err := api.NewClient(u, api.WithUserAgent("nixdock")).SigningCert(api.CertificateRequest{
		PublicKey: api.Key{Content: pubPEM}, SignedEmailAddress: proof,
	}, tok)
	if err != nil {
		// Fulcio's client quotes the response body, which can echo the token.
		return nil, remoteError("getting a signing certificate from Fulcio at "+escape.Text(fulcioURL), err, tok)
	}
	rc, err := RekorClient(opts.RekorURL)
	if err != nil {
		return nil, err
	}
	var workflow struct {
		JobWorkflowRef string `json:"job_workflow_ref"`
	}
	_ = json.Unmarshal(claims, &workflow) // absent outside GitHub Actions
	return &Signer{SV: sv, Cert: resp.CertPEM, Chain: resp.ChainPEM, Rekor: rc, JobWorkflowRef: workflow.JobWorkflowRef}, nil
}

// tokenSubject is the identity Fulcio puts in the certificate: the token's
// email when verified, else its sub claim. The token is not verified here;
// Fulcio verifies it.
func tokenSubject(tok string) (string, []byte, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", nil, errors.New("the OIDC token is not a JWT")
	}
	claims, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", nil, fmt.Errorf("the OIDC token's claims: %w", err)
	}
	sub, err := oauthflow.SubjectFromUnverifiedToken(claims)
	if err != nil {
		return "", nil, fmt.Errorf("the OIDC token's subject: %w", err)
	}
	return sub, claims, nil
}

// RekorClient returns a client for the Rekor at rekorURL ("" is the public
// instance), for key-based signing with the transparency log.
func RekorClient(rekorURL string) (*client.Rekor, error) {
	rekorURL = or(rekorURL, DefaultRekorURL)
	rc, err := rekorclient.GetRekorClient(rekorURL, rekorclient.WithUserAgent("nixdock"))
	if err != nil {
		return nil, fmt.Errorf("rekor URL %q: %w", rekorURL, err)
	}
	return rc, nil
}

var osGetenv = os.Getenv

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
