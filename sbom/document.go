package sbom

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// Document is an SBOM of one image: the image (Subject) and one Component
// per Nix store path in it. Everything is sorted; Encode renders it.
type Document struct {
	// Subject is the image the SBOM describes.
	Subject Subject `json:"subject"`
	// Created is the SBOM's creation time: Options.Created, else the
	// image's created date, else the Unix epoch. Never the wall clock.
	Created time.Time `json:"created"`
	// Tool names the program that wrote the SBOM ("nixdock-<version>").
	Tool string `json:"tool"`
	// Author is who wrote the SBOM besides the tool, Supplier who
	// supplies the image (Options.Author, Options.Supplier); nil when not
	// given.
	Author   *Party `json:"author,omitempty"`
	Supplier *Party `json:"supplier,omitempty"`
	// Source says where the data came from: "record" or "image".
	Source string `json:"source"`
	// Components are the store paths, sorted by Path.
	Components []Component `json:"components"`
	// RootFiles are the files outside the store, one component (nil when
	// there are none, or for a record without its image).
	RootFiles *RootFiles `json:"rootFiles,omitempty"`
	// BuildTime is true when build-time dependencies were added.
	BuildTime bool `json:"buildTime,omitempty"`
	// Warnings are things the reader of the SBOM should know (a store path
	// changed by a later layer, a scan that hit its memory bound, ...).
	Warnings []string `json:"warnings,omitempty"`
}

// Subject is the container image an SBOM describes.
type Subject struct {
	// Name is the image's name (the build's out path name or the source's
	// base name), without any directory, so that it is the same on every
	// machine.
	Name string `json:"name"`
	// Form is how the image was read (docker-archive, stream, oci-layout,
	// registry) or "record".
	Form string `json:"form,omitempty"`
	// ConfigDigest is the image ID (sha256 of the config).
	ConfigDigest string `json:"configDigest,omitempty"`
	// ManifestDigest is the digest of the manifest as published, where
	// known (records; registry and OCI layout images; Options.ManifestDigest).
	ManifestDigest string `json:"manifestDigest,omitempty"`
	// DiffIDs are the layers' uncompressed digests, in order.
	DiffIDs []string `json:"diffIDs,omitempty"`
	// DrvPath and OutPath are the image's derivation and output, from a record.
	DrvPath string `json:"drvPath,omitempty"`
	OutPath string `json:"outPath,omitempty"`
	// System is the Nix system the image was built for, where known.
	System string `json:"system,omitempty"`
	// BuildDependsOn are store paths the image's own derivation used
	// (--buildtime).
	BuildDependsOn []string `json:"buildDependsOn,omitempty"`
	// Repository is the image's repository, REGISTRY/PATH or PATH when no
	// registry is known, lower-case; Tag its tag where known. The purl
	// derives from them (ImagePURL).
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`

	// refHints are references the source names, best first.
	refHints  []string
	refDigest string
}

// Component is one Nix store path.
type Component struct {
	// Path is the store path, /nix/store/<hash>-<name>.
	Path string `json:"path"`
	// Hash is the store path's 32-character hash: the component's identity.
	Hash string `json:"hash"`
	// Name and Version come from the derivation's pname and version, else
	// from the store path name by Nix's rule (ParseName).
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// NameFrom is "derivation" or "store-path".
	NameFrom string `json:"nameFrom"`
	// Output is the derivation output this path is ("out", "dev", ...);
	// System the derivation's system. Both only known from a derivation.
	Output string `json:"output,omitempty"`
	System string `json:"system,omitempty"`
	// Deriver is the .drv that built the path, where known.
	Deriver string `json:"deriver,omitempty"`
	// NarHash is "sha256:<hex>" of the path's NAR serialization: Nix's
	// narHash, or computed from the layers. Empty for build-only paths
	// whose hash is unknown.
	NarHash string `json:"narHash,omitempty"`
	NarSize int64  `json:"narSize,omitempty"`
	// DependsOn are the store paths this path refers to at run time
	// (Nix references, without itself), sorted.
	DependsOn []string `json:"dependsOn,omitempty"`
	// BuildDependsOn are the store paths its derivation used to build it
	// (with --buildtime), sorted.
	BuildDependsOn []string `json:"buildDependsOn,omitempty"`
	// BuildOnly is true for paths that are only build-time dependencies:
	// they are not in the image.
	BuildOnly bool `json:"buildOnly,omitempty"`
	// CopiedToRoot, for a build-only path, names the component of files
	// outside the store that are a copy of its files (a customisation
	// layer): its files are in the image, not as a store path.
	CopiedToRoot string `json:"copiedToRoot,omitempty"`
	// BaseImageLayers, for a build-only image archive, is how many of the
	// image's first layers are its layers: the image was built from it
	// (dockerTools' fromImage), so its contents are in the image.
	BaseImageLayers int `json:"baseImageLayers,omitempty"`
	// Layers are the diff_ids of the layers holding the path, in layer order.
	Layers []string `json:"layers,omitempty"`
	// Meta from the meta helper (--meta), each value checked: license as
	// an SPDX expression, description, homepage (a URL).
	License     string `json:"license,omitempty"`
	Description string `json:"description,omitempty"`
	Homepage    string `json:"homepage,omitempty"`
	// DownloadLocation is the source URL (meta helper: src.urls).
	DownloadLocation string `json:"downloadLocation,omitempty"`
	// Maintainers supply the package (meta.maintainers).
	Maintainers []Maintainer `json:"maintainers,omitempty"`
	// Origin is the package set the derivation comes from, as evidence
	// shows it: "nixpkgs" when its meta.position lies in a nixpkgs tree,
	// else empty (or Options.PurlNamespace). It is the pkg:nix namespace.
	Origin string `json:"origin,omitempty"`
	// CPEs are CPE 2.3 formatted strings from meta.identifiers (cpe, or
	// cpeParts; possibleCPEs), the first being the one nixpkgs concluded.
	CPEs []string `json:"cpes,omitempty"`
	// UpstreamPURLs are the purls of the upstream package, from
	// meta.identifiers (purl, purls), canonical.
	UpstreamPURLs []string `json:"upstreamPurls,omitempty"`
	// NixPURL is the pkg:nix purl of the store path (see NixPURL).
	NixPURL string `json:"nixPurl"`
	// PURL is the component's main purl: the first upstream purl when
	// meta.identifiers names one (that is what vulnerability databases
	// and tools that keep one purl per package use), else NixPURL.
	PURL string `json:"purl"`
}

// Maintainer is one entry of meta.maintainers.
type Maintainer struct {
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	GitHub string `json:"github,omitempty"`
}

// Summary counts what a document holds.
type Summary struct {
	Components int `json:"components"`
	// Edges are runtime dependency edges between store paths.
	Edges int `json:"edges"`
	// BuildEdges are build-time edges (with --buildtime), including those
	// of the image's own derivation.
	BuildEdges int `json:"buildEdges,omitempty"`
	// Hashes counts components with a NAR hash.
	Hashes int `json:"hashes"`
}

// Summary counts components, edges and hashes.
func (d *Document) Summary() Summary {
	s := Summary{Components: len(d.Components), BuildEdges: len(d.Subject.BuildDependsOn)}
	for _, c := range d.Components {
		s.Edges += len(c.DependsOn)
		s.BuildEdges += len(c.BuildDependsOn)
		if c.NarHash != "" {
			s.Hashes++
		}
	}
	return s
}

// String is "N components, M edges" (plus build edges when there are some).
func (s Summary) String() string {
	out := fmt.Sprintf("%d components, %d edges", s.Components, s.Edges)
	if s.BuildEdges > 0 {
		out += fmt.Sprintf(", %d build edges", s.BuildEdges)
	}
	return out
}

// contentHash is the SHA-256 of the document's data: the SPDX namespace
// and the CycloneDX serial number are derived from it, so the same content
// gives the same identifiers and different content different ones.
func (d *Document) contentHash() [32]byte {
	data, err := json.Marshal(d)
	if err != nil {
		// A Document holds only strings, ints, bools and a time: it
		// always marshals.
		panic(fmt.Sprintf("sbom: marshalling document: %v", err))
	}
	return sha256.Sum256(data)
}
