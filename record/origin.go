package record

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// How an image came to be in a builder's store (Origin.How).
const (
	// OriginBuilt: this store built the image derivation itself (Nix marks
	// the path "ultimate").
	OriginBuilt = "built"
	// OriginRebuilt: Nix substituted the image from a cache, and nixdock
	// rebuilt it here with `nix-store --realise --check`, which got the same
	// bytes as the cache's copy.
	OriginRebuilt = "rebuilt"
	// OriginSubstituted: the image was downloaded, not built here. Such a
	// builder proves nothing about the image's reproducibility.
	OriginSubstituted = "substituted"
)

// Origin is how the image came to be in this builder's store, and the
// evidence that tells separate builds apart. It is what the builder
// reports of itself: a record signed by the builder's own CI identity makes
// it a fact, an unsigned record a claim (docs/record.md).
type Origin struct {
	How string `json:"how"`
	// RegistrationTime is when the image path became valid in the store,
	// in Unix seconds, as Nix records it. Two records of one build share it.
	RegistrationTime int64 `json:"registrationTime"`
	// Host fingerprints the machine (HostFingerprint): two stores on one
	// machine share it, two machines do not.
	Host string `json:"host"`
	// StartedAt and FinishedAt are the wall-clock times of the nixdock
	// build, RFC 3339 in UTC.
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
}

// Counts reports whether an origin is a build of this builder's own.
func (o *Origin) Counts() bool {
	return o != nil && (o.How == OriginBuilt || o.How == OriginRebuilt)
}

// BuildKey identifies one build of the image: the host, the store and the
// moment the image path was registered in it. Two records with one key
// describe the same build (a copied record), whatever builder ids they give.
func (r *Record) BuildKey() string {
	if r.Origin == nil {
		return ""
	}
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d", r.Origin.Host, StoreRoot(r.Store), r.OutPath, r.Origin.RegistrationTime)
}

// hostIDFiles are read, in order, to fingerprint the machine: the machine
// id (stable per installation) and the boot id (random per boot, so two
// virtual machines cloned from one image, which can share a machine id,
// still differ).
var hostIDFiles = []string{"/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id"}

// HostFingerprint is a hex SHA-256 over this machine's ids, never the ids
// themselves (a machine id is meant to stay private). It falls back to the
// host name where no id file exists.
func HostFingerprint() string {
	h := sha256.New()
	h.Write([]byte("nixdock host fingerprint v1\n"))
	found := false
	for _, f := range hostIDFiles {
		if data, err := os.ReadFile(f); err == nil {
			h.Write([]byte(strings.TrimSpace(string(data)) + "\n"))
			found = true
		}
	}
	if !found {
		name, _ := os.Hostname()
		h.Write([]byte("hostname " + name + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// StoreRoot is the chroot directory of a local store URL, or "" for the
// machine's store (or a remote store).
func StoreRoot(store string) string {
	switch {
	case store == "", store == "auto", store == "daemon", store == "local":
		return ""
	case strings.HasPrefix(store, "/"):
		return store
	case strings.HasPrefix(store, "local?"):
		for _, kv := range strings.Split(strings.TrimPrefix(store, "local?"), "&") {
			if v, ok := strings.CutPrefix(kv, "root="); ok {
				return v
			}
		}
	}
	return ""
}
