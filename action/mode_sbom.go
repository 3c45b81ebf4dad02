package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nixdock/nixdock-action/internal/version"
	"github.com/nixdock/nixdock-action/record"
	"github.com/nixdock/nixdock-action/sbom"
)

// sbom writes the SBOM of rec (the record in memory) into dir with
// sbom.FromRecord, and returns the file and its bytes (sbomOutput then
// names it); sbom-format none skips it. digest, when set, is the manifest
// digest the SBOM describes.
func (x *run) sbom(rec *record.Record, dir, digest string) (string, []byte, error) {
	if x.in.SBOMFormat == "none" {
		return "", nil, nil
	}
	format, err := sbom.ParseFormat(x.in.SBOMFormat)
	if err != nil {
		return "", nil, inputErr(InputSBOMFormat, "%s", err)
	}
	ext := map[sbom.Format]string{sbom.SPDXJSON: "sbom.spdx.json", sbom.CycloneDXJSON: "sbom.cdx.json"}[format]
	// The image input names the repository the SBOM's image purl points at.
	opts, err := sbom.ToolOptions("nixdock-"+version.Get().Version, x.in.Image, digest, x.r.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return "", nil, err
	}
	opts.Author = x.in.SBOMAuthor
	if opts.Author == nil {
		opts.Author = repositoryOwner(x.r.Getenv)
	}
	path := filepath.Join(dir, ext)
	end := x.r.Group("writing the SBOM (" + string(format) + ")")
	data, err := x.encodeSBOM(rec, opts, format, path)
	end()
	if err != nil {
		return "", nil, err
	}
	return path, data, nil
}

// sbomOutput names the SBOM written at path in the summary and the sbom
// output ("" is none).
func (x *run) sbomOutput(path string) error {
	if path == "" {
		return nil
	}
	x.sum.Files["sbom"] = path
	return x.setOutputs(OutputSBOM, path)
}

// encodeSBOM writes rec's SBOM to path and returns its bytes.
func (x *run) encodeSBOM(rec *record.Record, opts sbom.Options, format sbom.Format, path string) ([]byte, error) {
	doc, err := sbom.FromRecord(rec, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := doc.Encode(format, &buf, false); err != nil {
		return nil, fmt.Errorf("writing the SBOM: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("writing the SBOM: %w", err)
	}
	for _, w := range doc.Warnings {
		x.log.Infof("nixdock: warning: %s", w)
	}
	x.log.Infof("sbom: %s, %s, %d bytes -> %s", doc.Summary(), format, buf.Len(), path)
	return buf.Bytes(), nil
}

// repositoryOwner is the SBOM's author when the workflow names none: the
// owner of the repository the workflow runs for (GITHUB_REPOSITORY_OWNER),
// a person or an organization as the event's repository.owner.type says
// (an organization when the event does not say). nil outside Actions or
// for a name SPDX cannot hold.
func repositoryOwner(getenv func(string) string) *sbom.Party {
	owner := getenv("GITHUB_REPOSITORY_OWNER")
	if owner == "" {
		return nil
	}
	kind := "Organization"
	if eventOwnerType(getenv("GITHUB_EVENT_PATH"), owner) == "User" {
		kind = "Person"
	}
	p, err := sbom.ParseParty(kind + ": " + owner)
	if err != nil {
		return nil
	}
	return &p
}

// eventOwnerType is repository.owner.type in the event payload at path
// when the owner is login, else "".
func eventOwnerType(path, login string) string {
	// Stat first: opening a FIFO with no writer would block forever.
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var ev struct {
		Repository struct {
			Owner struct {
				Login string `json:"login"`
				Type  string `json:"type"`
			} `json:"owner"`
		} `json:"repository"`
	}
	// Event payloads are at most a few MiB; read no more than that.
	if json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(&ev) != nil || ev.Repository.Owner.Login != login {
		return ""
	}
	return ev.Repository.Owner.Type
}
