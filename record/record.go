package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"

	"github.com/nixdock/nixdock-action/image"
)

// Schema identifies build records; see docs/record.md.
const Schema = "nixdock.dev/record/v1"

// Record is what one builder built: enough to compare with another builder's
// record without the image at hand. Every field is documented in
// docs/record.md.
type Record struct {
	Schema      string      `json:"schema"`
	Nixdock     string      `json:"nixdockVersion"`
	NixVersion  string      `json:"nixVersion"`
	System      string      `json:"system"`
	Builder     Builder     `json:"builder"`
	Installable Installable `json:"installable"`
	// Store is the Nix store URL built in ("" for the machine's store).
	Store   string `json:"store,omitempty"`
	DrvPath string `json:"drvPath"`
	OutPath string `json:"outPath"`
	// Origin says how the image came to be in the store and tells separate
	// builds apart; records written before nixdock recorded it have none,
	// and such a builder does not count towards agreement.
	Origin *Origin `json:"origin,omitempty"`
	// Variation names what this build varied on purpose (reproduce).
	Variation map[string]string `json:"variation,omitempty"`
	Image     image.Digests     `json:"image"`
	// Closure is the runtime closure of OutPath, sorted by path.
	Closure []PathInfo `json:"closure"`
	// Derivations are the image's .drv and every .drv it depends on, so
	// that verify can explain differing inputs without the builder's store.
	Derivations map[string]Derivation `json:"derivations,omitempty"`
}

// Builder identifies the machine that built, as far as it is known.
type Builder struct {
	// ID names the builder in reports: the runner name in Actions, else the
	// host name, plus the store for chroot builds.
	ID     string `json:"id"`
	OS     string `json:"os"`
	Kernel string `json:"kernel,omitempty"`
	Arch   string `json:"arch"`
	// Runner fields come from the GitHub Actions environment when present.
	RunnerName string `json:"runnerName,omitempty"`
	RunnerOS   string `json:"runnerOS,omitempty"`
	ImageOS    string `json:"imageOS,omitempty"`
	Workflow   string `json:"workflowRun,omitempty"`
	Cores      int    `json:"cores"`
}

// Marshal encodes a record deterministically: map keys sorted by
// encoding/json, slices already sorted, indented for review in pull requests.
func (r *Record) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	return buf.Bytes(), nil
}

// Write writes the record to path.
func Write(path string, r *Record) error {
	data, err := r.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	return nil
}

// Read reads and checks a record file.
func Read(path string) (*Record, error) {
	// Stat first: reading a FIFO with no writer would block forever.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("record %s: not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", path, err)
	}
	return r, nil
}

// Parse decodes a record strictly (exact keys, no unknown or
// duplicate key, nothing after the object) and checks the fields
// comparisons rely on. Records come from other machines: a record read
// one way here and another way by jq or a reviewer is an attack.
func Parse(data []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a build record: %w", err)
	}
	if err := checkKeys(data, reflect.TypeFor[Record]()); err != nil {
		return nil, fmt.Errorf("not a build record: %w", err)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Check reports the first field that makes the record unusable.
func (r *Record) Check() error {
	switch {
	case r.Schema != Schema:
		return fmt.Errorf("schema is %q, want %q", r.Schema, Schema)
	case r.DrvPath == "" || !strings.HasSuffix(r.DrvPath, ".drv"):
		return fmt.Errorf("drvPath %q is not a .drv path", r.DrvPath)
	case !isDigest(r.Image.ConfigDigest):
		return fmt.Errorf("image.configDigest %q is not a sha256 digest", r.Image.ConfigDigest)
	case !isDigest(r.Image.ManifestDigest):
		return fmt.Errorf("image.manifestDigest %q is not a sha256 digest", r.Image.ManifestDigest)
	case len(r.Image.Layers) == 0:
		return errors.New("image.layers is empty: an image has at least one layer")
	case !slices.Contains(image.CompressorNames, r.Image.Compressor.Name):
		return fmt.Errorf("image.compressor.name %q is not one of %s", r.Image.Compressor.Name, strings.Join(image.CompressorNames, ", "))
	case r.Origin != nil && !slices.Contains([]string{OriginBuilt, OriginRebuilt, OriginSubstituted}, r.Origin.How):
		return fmt.Errorf("origin.how %q is not one of %s, %s, %s", r.Origin.How, OriginBuilt, OriginRebuilt, OriginSubstituted)
	}
	for i, l := range r.Image.Layers {
		if !isDigest(l.DiffID) {
			return fmt.Errorf("image.layers[%d].diffID %q is not a sha256 digest", i, l.DiffID)
		}
		if !isDigest(l.Digest) {
			return fmt.Errorf("image.layers[%d].digest %q is not a sha256 digest", i, l.Digest)
		}
	}
	return nil
}

func isDigest(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ThisBuilder describes the machine nixdock runs on; label, when set, tells
// apart builders on one machine (such as "store=/tmp/storeB").
func ThisBuilder(label string) Builder {
	b := Builder{
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		Kernel:     kernelRelease(),
		RunnerName: os.Getenv("RUNNER_NAME"),
		RunnerOS:   os.Getenv("RUNNER_OS"),
		ImageOS:    os.Getenv("ImageOS"),
		Cores:      runtime.NumCPU(),
	}
	if id := os.Getenv("GITHUB_RUN_ID"); id != "" {
		b.Workflow = os.Getenv("GITHUB_REPOSITORY") + "/actions/runs/" + id
	}
	b.ID = b.RunnerName
	if b.ID == "" {
		b.ID, _ = os.Hostname()
	}
	if label != "" {
		b.ID += " " + label
	}
	return b
}

func kernelRelease() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
