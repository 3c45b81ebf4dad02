package publish

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixdock/nixdock-action/record"
)

// ProvenanceOf is the provenance's input besides the records: the
// flake.lock (flakeLock, else the local flake's own when the first record
// was built from one, read when it exists), nixdock's version, and the
// GitHub Actions run getenv describes.
func ProvenanceOf(records []*record.Record, flakeLock, version string, getenv func(string) string) (*Provenance, error) {
	p := &Provenance{NixdockVersion: version, Run: ActionsRunFrom(getenv)}
	lockPath := flakeLock
	if lockPath == "" && len(records) > 0 {
		lockPath = flakeLockOf(records[0].Installable)
	}
	if lockPath != "" {
		var err error
		if p.FlakeLock, err = os.ReadFile(lockPath); err != nil && flakeLock != "" {
			return nil, fmt.Errorf("reading flake.lock: %w", err)
		}
	}
	return p, nil
}

// flakeLockOf is the flake.lock of a local flake installable (".#image",
// "path:./x#image", "./x#image"), or "".
func flakeLockOf(inst record.Installable) string {
	if inst.Flake == "" {
		return ""
	}
	dir, _, _ := strings.Cut(inst.Flake, "#")
	dir = strings.TrimPrefix(dir, "path:")
	dir = strings.TrimPrefix(dir, "git+file://")
	if dir == "" || strings.Contains(dir, ":") {
		return ""
	}
	return filepath.Join(dir, "flake.lock")
}
