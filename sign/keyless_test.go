package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeJWT is an unsigned token with GitHub Actions' claims; Fulcio would
// verify it, nixdock only reads the subject.
func fakeJWT(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]string{"sub": sub, "iss": "https://token.actions.githubusercontent.com", "aud": Audience})
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(claims) + "." + enc([]byte("signature"))
}

// TestKeylessActionsToken uses a local stand-in for GitHub's token endpoint
// (ACTIONS_ID_TOKEN_REQUEST_URL): it checks the request GitHub's runner would
// get, then goes as far as is possible without Fulcio, whose refusal (here:
// nothing listening) must be a clear error naming Fulcio.
func TestKeylessActionsToken(t *testing.T) {
	const requestToken = "runner-request-token"
	sub := "repo:nixdock/demo:ref:refs/heads/main"
	var got *http.Request
	stand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		fmt.Fprintf(w, `{"value":%q}`, fakeJWT(sub))
	}))
	defer stand.Close()
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   stand.URL + "/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken,
	}
	opts := KeylessOptions{Getenv: func(k string) string { return env[k] }}

	tok, err := ActionsIDToken(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Method != http.MethodGet || got.URL.Path != "/token" {
		t.Fatalf("token request: %+v", got)
	}
	if a := got.URL.Query().Get("audience"); a != "sigstore" {
		t.Errorf("audience = %q, want sigstore", a)
	}
	if v := got.URL.Query().Get("api-version"); v != "2.0" {
		t.Errorf("the endpoint's own query was dropped: %q", got.URL.RawQuery)
	}
	if h := got.Header.Get("Authorization"); h != "Bearer "+requestToken {
		t.Errorf("Authorization = %q", h)
	}
	if s, _, err := tokenSubject(tok); err != nil || s != sub {
		t.Errorf("subject = %q, %v", s, err)
	}

	// Fulcio: a closed port stands for an unreachable Fulcio.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	opts.FulcioURL = deadURL
	_, err = KeylessSigner(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "signing certificate from Fulcio at "+deadURL) {
		t.Fatalf("err = %v, want a clear Fulcio error", err)
	}
}

func TestKeylessOutsideActions(t *testing.T) {
	_, err := KeylessSigner(context.Background(), KeylessOptions{Getenv: func(string) string { return "" }})
	if !errors.Is(err, ErrNoActionsToken) || !strings.Contains(err.Error(), "id-token: write") {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenSubject(t *testing.T) {
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte(`{}`)) + ".c"} {
		if _, _, err := tokenSubject(bad); err == nil {
			t.Errorf("tokenSubject(%q) accepted it", bad)
		}
	}
}

// TestKeylessMasksAndFiltersFulcio: the OIDC token is masked before it is
// sent anywhere, and a Fulcio that echoes the request in its error body
// does not get the token (or its control characters) into the error.
func TestKeylessMasksAndFiltersFulcio(t *testing.T) {
	tok := fakeJWT("repo:nixdock/demo:ref:refs/heads/main")
	var masked []string
	sentBeforeMask := false
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(masked) == 0 {
			sentBeforeMask = true
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad request\n\x1b]0;pwned\a\nAuthorization: %s\n%s", r.Header.Get("Authorization"), strings.Repeat("x", 4000))
	}))
	defer echo.Close()
	_, err := KeylessSigner(context.Background(), KeylessOptions{
		Token: tok, FulcioURL: echo.URL, Mask: func(s string) { masked = append(masked, s) },
	})
	if err == nil {
		t.Fatal("an echoing Fulcio that answers 400 gave a signer")
	}
	msg := err.Error()
	if strings.Contains(msg, tok) || strings.Contains(msg, "eyJ") || strings.ContainsAny(msg, "\n\x1b\a") {
		t.Errorf("the Fulcio error leaks the token or control characters: %q", msg)
	}
	if !strings.Contains(msg, "Fulcio at "+echo.URL) || len(msg) > 400 {
		t.Errorf("the Fulcio error is not one short line naming Fulcio (%d bytes): %q", len(msg), msg)
	}
	if len(masked) == 0 || masked[0] != tok || sentBeforeMask {
		t.Errorf("masked %q (sent before masking: %v), want the token first", masked, sentBeforeMask)
	}
}

// TestActionsTokenErrorFiltered: the token endpoint's error body is cut,
// escaped and stripped of tokens; the request token is masked first.
func TestActionsTokenErrorFiltered(t *testing.T) {
	const requestToken = "runner-request-token"
	stand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "denied %s %s\n::error::forged", r.Header.Get("Authorization"), fakeJWT("x"))
	}))
	defer stand.Close()
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": stand.URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken}
	var masked []string
	_, err := ActionsIDToken(context.Background(), KeylessOptions{Getenv: func(k string) string { return env[k] },
		Mask: func(s string) { masked = append(masked, s) }})
	if err == nil {
		t.Fatal("a 403 from the token endpoint gave a token")
	}
	if msg := err.Error(); strings.Contains(msg, requestToken) || strings.Contains(msg, "eyJ") || strings.Contains(msg, "\n") {
		t.Errorf("token endpoint error leaks: %q", msg)
	}
	if len(masked) != 1 || masked[0] != requestToken {
		t.Errorf("masked %q, want the request token", masked)
	}
}
