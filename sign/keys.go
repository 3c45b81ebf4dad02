package sign

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PasswordEnv is the only place a key password is read from, as with cosign
// in CI: flags would show in process listings and shell history.
const PasswordEnv = "COSIGN_PASSWORD"

// ErrNoPassword is returned when COSIGN_PASSWORD is not set at all (an empty
// value is a valid, empty password).
var ErrNoPassword = errors.New(PasswordEnv + " is not set: put the key password in the environment")

// Password reads COSIGN_PASSWORD.
func Password() ([]byte, error) {
	p, ok := os.LookupEnv(PasswordEnv)
	if !ok {
		return nil, ErrNoPassword
	}
	return []byte(p), nil
}

// KeyFiles are the files GenerateKeys wrote.
type KeyFiles struct {
	Private, Public string
}

// GenerateKeys writes an ECDSA P-256 key pair in cosign's format: PREFIX.key
// (encrypted with password, "ENCRYPTED SIGSTORE PRIVATE KEY") and
// PREFIX.pub. It refuses to overwrite an existing private key.
func GenerateKeys(prefix string, password []byte) (KeyFiles, error) {
	files := KeyFiles{Private: prefix + ".key", Public: prefix + ".pub"}
	if _, err := os.Stat(files.Private); err == nil {
		return files, fmt.Errorf("%s exists: remove it or choose another prefix", files.Private)
	}
	keys, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		return files, fmt.Errorf("generating key pair: %w", err)
	}
	if dir := filepath.Dir(prefix); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return files, err
		}
	}
	if err := os.WriteFile(files.Private, keys.PrivateBytes, 0o600); err != nil {
		return files, fmt.Errorf("writing private key: %w", err)
	}
	if err := os.WriteFile(files.Public, keys.PublicBytes, 0o644); err != nil {
		return files, fmt.Errorf("writing public key: %w", err)
	}
	return files, nil
}

// LoadKey decrypts a cosign private key file with password (from
// COSIGN_PASSWORD, which a wrong-password error names).
func LoadKey(path string, password []byte) (signature.SignerVerifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	sv, err := ParseKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w (is %s right?)", path, err, PasswordEnv)
	}
	return sv, nil
}

// ParseKey decrypts a cosign private key (the file's bytes) with password.
// cosign's error for a wrong password is "decrypt: encrypted: decryption
// failed"; the caller knows where the password came from and says so.
func ParseKey(data, password []byte) (signature.SignerVerifier, error) {
	return cosign.LoadPrivateKey(data, password, nil)
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(path string) (signature.Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return v, nil
}
