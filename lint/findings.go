package lint

import (
	"cmp"
	"slices"
)

// Schema names the JSON document WriteJSON writes.
const Schema = "nixdock.dev/lint/v1"

// Severity is how bad a finding is. Errors and warnings make nixdock lint
// exit 1; notes are advice.
type Severity string

// The severities, from worst to mildest.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityNote    Severity = "note"
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// Location is where in the image a finding is: a config key, a file path
// (with the layer that holds it), or a store path.
type Location struct {
	// ConfigKey is a JSON path into the image config, such as
	// "config.Environment".
	ConfigKey string `json:"configKey,omitempty"`
	// Path is an absolute path in the image filesystem.
	Path string `json:"path,omitempty"`
	// Layer is the 0-based index of the layer that holds Path, when known.
	Layer *int `json:"layer,omitempty"`
	// StorePath is the Nix store path Path belongs to, when it does.
	StorePath string `json:"storePath,omitempty"`
}

// String renders a location for people.
func (l Location) String() string {
	switch {
	case l.ConfigKey != "":
		return l.ConfigKey
	case l.Path != "" && l.Layer != nil:
		return l.Path + " (layer " + itoa(*l.Layer) + ")"
	case l.Path != "":
		return l.Path
	case l.StorePath == "" && l.Layer != nil:
		return "layer " + itoa(*l.Layer)
	}
	return l.StorePath
}

// Finding is one problem found in an image.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Evidence are the facts that show the problem, one sentence each.
	Evidence []string `json:"evidence"`
	// Fix says what to change, in Nix terms (a nixpkgs package, a
	// dockerTools option).
	Fix      string   `json:"fix"`
	Location Location `json:"location"`
	// Bytes is the size a size finding is about (wasted or saved).
	Bytes int64 `json:"bytes,omitempty"`
}

// Counts are the number of findings by severity.
type Counts struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Notes    int `json:"notes"`
}

func countFindings(fs []Finding) Counts {
	var c Counts
	for _, f := range fs {
		switch f.Severity {
		case SeverityError:
			c.Errors++
		case SeverityWarning:
			c.Warnings++
		default:
			c.Notes++
		}
	}
	return c
}

// sortFindings orders findings by severity, id, location and evidence, so
// that output is the same on every run.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(a.Severity.rank(), b.Severity.rank()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Location.ConfigKey, b.Location.ConfigKey); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Location.Path, b.Location.Path); c != 0 {
			return c
		}
		if c := cmp.Compare(layerOf(a.Location), layerOf(b.Location)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Location.StorePath, b.Location.StorePath); c != 0 {
			return c
		}
		return slices.Compare(a.Evidence, b.Evidence)
	})
}

func layerOf(l Location) int {
	if l.Layer == nil {
		return -1
	}
	return *l.Layer
}

func intp(i int) *int { return &i }
