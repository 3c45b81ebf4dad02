package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"path"
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	docsURI      = "https://github.com/nixdock/nixdock-action/blob/main/docs/lint.md"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	ShortDescription     sarifText       `json:"shortDescription"`
	HelpURI              string          `json:"helpUri"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           map[string]any  `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes the result as a SARIF 2.1.0 log for GitHub code
// scanning. Results point at the artifact (Options.ArtifactURI, such as
// flake.nix); the place in the image is a logical location.
func (r *Result) WriteSARIF(w io.Writer) error {
	index := map[string]int{}
	rules := make([]sarifRule, len(Rules))
	for i, rule := range Rules {
		index[rule.ID] = i
		area, _, _ := strings.Cut(rule.ID, "-")
		rules[i] = sarifRule{
			ID: rule.ID, ShortDescription: sarifText{Text: rule.Summary},
			HelpURI:              docsURI + "#" + rule.ID,
			DefaultConfiguration: sarifRuleConfig{Level: string(rule.Severity)},
			Properties:           map[string]any{"tags": []string{"nix", "container", area}},
		}
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		results = append(results, sarifResult{
			RuleID: f.ID, RuleIndex: index[f.ID], Level: string(f.Severity),
			Message:             sarifText{Text: sarifMessage(f)},
			Locations:           []sarifLocation{r.sarifLocation(f)},
			PartialFingerprints: map[string]string{"nixdockFinding/v1": fingerprint(f)},
		})
	}
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{
		Tool:    sarifTool{Driver: sarifDriver{Name: "nixdock lint", InformationURI: docsURI, Rules: rules}},
		Results: results,
	}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// sarifMessage is the text code scanning shows: names from the image are
// escaped as in every other output, one evidence item per line.
func sarifMessage(f Finding) string {
	var b strings.Builder
	b.WriteString(escape.Text(f.Title))
	if l := f.Location.String(); l != "" {
		b.WriteString(" [" + escape.Text(l) + "]")
	}
	for _, e := range f.Evidence {
		b.WriteString("\n- " + escape.Text(e))
	}
	b.WriteString("\nFix: " + f.Fix)
	return b.String()
}

func (r *Result) sarifLocation(f Finding) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: r.artifactURI},
		Region:           sarifRegion{StartLine: lineOf(r.artifactText, sourceNeedles(f))},
	}}
	switch {
	case f.Location.ConfigKey != "":
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Location.ConfigKey, Kind: "member"}}
	case f.Location.Path != "":
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Location.Path, Kind: "resource"}}
	}
	return loc
}

// sourceNeedles are what a Nix file would say about a finding, most
// specific first: the config key's last part (Environment, created,
// ExposedPorts), else the package's name (tzdata of
// /nix/store/…-tzdata-2024a), else the file's base name.
func sourceNeedles(f Finding) []string {
	var out []string
	if k := f.Location.ConfigKey; k != "" {
		out = append(out, k[strings.LastIndexByte(k, '.')+1:])
	}
	if sp := f.Location.StorePath; sp != "" {
		name := storepath.Name(sp)
		if i := strings.IndexFunc(name, func(r rune) bool { return r >= '0' && r <= '9' }); i > 1 && name[i-1] == '-' {
			name = name[:i-1] // the pname, without -VERSION
		}
		out = append(out, name)
	}
	if p := f.Location.Path; p != "" {
		out = append(out, path.Base(p))
	}
	return out
}

// lineOf is the 1-based line of text where the first needle that occurs
// does, as a whole word; 1 when none does (or there is no text).
func lineOf(text string, needles []string) int {
	for _, n := range needles {
		if n == "" || n == "." || n == "/" {
			continue
		}
		for from := 0; ; {
			i := strings.Index(text[from:], n)
			if i < 0 {
				break
			}
			i += from
			end := i + len(n)
			if (i == 0 || !wordByte(text[i-1])) && (end == len(text) || !wordByte(text[end])) {
				return 1 + strings.Count(text[:i], "\n")
			}
			from = end
		}
	}
	return 1
}

func wordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// fingerprint identifies a finding across runs: its rule and location.
func fingerprint(f Finding) string {
	h := sha256.Sum256([]byte(f.ID + "\x00" + f.Location.ConfigKey + "\x00" + f.Location.Path + "\x00" + f.Location.StorePath))
	return hex.EncodeToString(h[:16])
}
