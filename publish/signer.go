package publish

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nixdock/nixdock-action/sign"
)

// Signer says how to sign: with a cosign private key (Key and Password) or
// keyless (Keyless). It is a value; Ready turns it into a working
// sign.Signer.
type Signer struct {
	// Key is a cosign encrypted private key (the file's content), and
	// Password its password (may be empty).
	Key, Password []byte
	// KeyFile, when Key is nil, is the key's file, read by Ready: after
	// the record check, so that a refused publication needs no key.
	KeyFile string
	// KeyName names the key in errors (default KeyFile); PasswordFrom says where
	// the password came from (COSIGN_PASSWORD, an Action input), so that
	// a wrong-password error can say what to fix.
	KeyName, PasswordFrom string
	// TlogUpload logs key signatures to Rekor too (keyless always does).
	TlogUpload bool
	// RekorURL is the Rekor instance for TlogUpload; empty is
	// sign.DefaultRekorURL.
	RekorURL string
	// Keyless, when set, signs with a Fulcio certificate instead of Key.
	Keyless *sign.KeylessOptions
}

// Ready decrypts the key (or gets the keyless certificate) and returns the
// signer.
func (s Signer) Ready(ctx context.Context) (*sign.Signer, error) {
	if s.Keyless != nil {
		if len(s.Key) > 0 || s.KeyFile != "" {
			return nil, errors.New("a signer is a key or keyless, not both")
		}
		return sign.KeylessSigner(ctx, *s.Keyless)
	}
	key := s.Key
	if key == nil && s.KeyFile != "" {
		var err error
		if key, err = os.ReadFile(s.KeyFile); err != nil {
			return nil, fmt.Errorf("reading key: %w", err)
		}
	}
	if len(key) == 0 {
		return nil, errors.New("no signing key and not keyless")
	}
	sv, err := sign.ParseKey(key, s.Password)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w%s", orDefault(s.KeyName, orDefault(s.KeyFile, "(given)")), err, s.passwordHint())
	}
	out := &sign.Signer{SV: sv}
	if s.TlogUpload {
		if out.Rekor, err = sign.RekorClient(orDefault(s.RekorURL, sign.DefaultRekorURL)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s Signer) passwordHint() string {
	if s.PasswordFrom == "" {
		return ""
	}
	return " (is " + s.PasswordFrom + " right?)"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
