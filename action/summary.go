package action

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
	"github.com/nixdock/nixdock-action/internal/storepath"
)

// Verdict is the one-line result of a run.
type Verdict string

// Verdicts, in the words the summary's heading uses.
const (
	VerdictBuilt          Verdict = "built"
	VerdictReproducible   Verdict = "reproducible"
	VerdictUnreproducible Verdict = "not reproducible"
	VerdictInputsDiffer   Verdict = "inputs differ"
	VerdictPublished      Verdict = "published"
	VerdictFailed         Verdict = "failed"
)

// Builder is one build as the summary lists it.
type Builder struct {
	ID             string
	DrvPath        string
	ManifestDigest string
	ConfigDigest   string
	Layers         int
	Closure        int
}

// Culprit is a store path whose files differ between builds.
type Culprit struct {
	StorePath string
	DrvPath   string
	Files     []string
	Causes    []string
	Hint      string
	// ConsequenceOf is the root culprit this one follows from; only root
	// culprits are annotated.
	ConsequenceOf string
}

// Summary is what the job summary shows; fields left empty are omitted.
type Summary struct {
	Mode        Mode
	Verdict     Verdict
	Installable string
	// Digest is the agreed (or, for one build, the built) manifest digest.
	Digest   string
	Builders []Builder
	Culprits []Culprit
	// Image is ref@digest after publish, with the command that checks it.
	Image         string
	VerifyCommand string
	// ReproducibleCommand checks the signature and the reproducibility
	// attestation with nixdock (NixdockVerifyCommand).
	ReproducibleCommand string
	// Files lists what was written (record, report, SBOM) by label.
	Files map[string]string
	// Error is why the run failed (VerdictFailed).
	Error string
	// Details is Markdown appended in a collapsed section (the full report).
	Details string
	// Lint is the image's lint result as Markdown (lint.Result.WriteMarkdown),
	// shown under its own heading: findings are advice, so they are not
	// collapsed away with the report.
	Lint string
}

var verdictIcon = map[Verdict]string{
	VerdictBuilt: "📦", VerdictReproducible: "✅", VerdictUnreproducible: "❌",
	VerdictInputsDiffer: "⚠️", VerdictPublished: "🚀", VerdictFailed: "💥",
}

// Markdown renders the summary. The output is deterministic.
func (s *Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s nixdock %s: %s\n\n", verdictIcon[s.Verdict], s.Mode, s.Verdict)
	if s.Error != "" {
		fmt.Fprintf(&b, "> %s\n\n", escape.Markdown(s.Error))
	}
	if s.Installable != "" {
		fmt.Fprintf(&b, "Image: %s", escape.Code(s.Installable))
		if s.Digest != "" {
			fmt.Fprintf(&b, " · digest %s", escape.Code(s.Digest))
		}
		b.WriteString("\n\n")
	} else if s.Digest != "" {
		fmt.Fprintf(&b, "Digest: %s\n\n", escape.Code(s.Digest))
	}
	if len(s.Builders) > 0 {
		b.WriteString("| builder | manifest digest | config digest | layers | closure | derivation |\n|---|---|---|---|---|---|\n")
		for _, x := range s.Builders {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s |\n",
				escape.Markdown(x.ID), escape.Code(short(x.ManifestDigest)), escape.Code(short(x.ConfigDigest)), x.Layers, x.Closure, escape.Code(path.Base(x.DrvPath)))
		}
		b.WriteString("\n")
	}
	if len(s.Culprits) > 0 {
		b.WriteString("### Culprits\n\n| store path | causes | files | confirm with |\n|---|---|---|---|\n")
		for _, c := range sortedCulprits(s.Culprits) {
			causes := strings.Join(c.Causes, ", ")
			if c.ConsequenceOf != "" {
				causes += " (follows from " + storepath.Name(c.ConsequenceOf) + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", escape.Code(c.StorePath), escape.Markdown(causes),
				mdFiles(c.Files, 5), escape.Code(c.Hint))
		}
		b.WriteString("\n")
	}
	if s.Image != "" {
		fmt.Fprintf(&b, "Published %s\n\n", escape.Code(s.Image))
	}
	if s.VerifyCommand != "" {
		fmt.Fprintf(&b, "Check the signature:\n\n%s\n\n", escape.CodeBlock("sh", s.VerifyCommand))
	}
	if s.ReproducibleCommand != "" {
		fmt.Fprintf(&b, "Check the signature, that the builds agreed and who signed their records:\n\n%s\n\n", escape.CodeBlock("sh", s.ReproducibleCommand))
	}
	if len(s.Files) > 0 {
		keys := make([]string, 0, len(s.Files))
		for k := range s.Files {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "- %s: %s\n", escape.Markdown(k), escape.Code(s.Files[k]))
		}
		b.WriteString("\n")
	}
	if s.Lint != "" {
		fmt.Fprintf(&b, "### Lint\n\n%s\n\n", strings.TrimSpace(demote(s.Lint)))
	}
	if s.Details != "" {
		fmt.Fprintf(&b, "<details><summary>Full report</summary>\n\n%s\n</details>\n", strings.TrimSpace(s.Details))
	}
	return b.String()
}

// CulpritAnnotations are one error annotation per culprit, on file (the
// Nix file or flake.nix that defines the image; "" puts them on the run).
func CulpritAnnotations(culprits []Culprit, file string) []Annotation {
	var out []Annotation
	for _, c := range sortedCulprits(culprits) {
		if c.ConsequenceOf != "" {
			continue
		}
		msg := fmt.Sprintf("%s is not reproducible", c.StorePath)
		if len(c.Causes) > 0 {
			msg += " (likely cause: " + strings.Join(c.Causes, ", ") + ")"
		}
		if len(c.Files) > 0 {
			msg += "; differing files: " + fileList(c.Files, 10)
		}
		if c.DrvPath != "" {
			msg += "; derivation " + c.DrvPath
		}
		if c.Hint != "" {
			msg += "; confirm with: " + c.Hint
		}
		out = append(out, Annotation{File: file, Title: "Unreproducible: " + storepath.Name(c.StorePath), Message: msg})
	}
	return out
}

// CosignVerifyCommand is the command that checks a published image: with
// the public key next to the key file when a key signed it, else keyless
// against the GitHub OIDC issuer, the signing workflow (signer, a
// job_workflow_ref; when it is not known, any GitHub workflow) and the
// repository that ran the workflow.
func CosignVerifyCommand(ref, key, repository, signer string) string {
	if key != "" {
		// nixdock signs with a key without the transparency log.
		return fmt.Sprintf("cosign verify --key %s --insecure-ignore-tlog %s", escape.Shell(publicKeyName(key)), escape.Shell(ref))
	}
	cmd := "cosign verify \\\n"
	if workflowRef.MatchString(signer) {
		cmd += fmt.Sprintf("  --certificate-identity %s \\\n", escape.Shell(githubServer+"/"+signer))
	} else {
		cmd += fmt.Sprintf("  --certificate-identity-regexp %s \\\n", escape.Shell(`^https://github\.com/`))
	}
	cmd += "  --certificate-oidc-issuer " + githubIssuer + " \\\n"
	if repository != "" {
		cmd += fmt.Sprintf("  --certificate-github-workflow-repository %s \\\n", escape.Shell(repository))
	}
	return cmd + "  " + escape.Shell(ref)
}

// NixdockVerifyCommand is the nixdock command that checks a published
// image's signature (as CosignVerifyCommand) and its reproducibility
// attestation: at least minBuilders agreeing builders, whose records were
// signed by the builder workflow (builderWorkflow, as EnvBuilderWorkflow
// says it) when it is known. "" when signed keyless by a workflow not
// known: verify-signature takes an exact identity.
func NixdockVerifyCommand(ref, key, signer, builderWorkflow string, minBuilders int) string {
	cmd := "nixdock verify-signature " + escape.Shell(ref) + " \\\n"
	switch {
	case key != "":
		cmd += fmt.Sprintf("  --key %s --insecure-ignore-tlog \\\n", escape.Shell(publicKeyName(key)))
	case workflowRef.MatchString(signer):
		cmd += fmt.Sprintf("  --certificate-identity %s \\\n  --certificate-oidc-issuer %s \\\n", escape.Shell(githubServer+"/"+signer), githubIssuer)
	default:
		return ""
	}
	if file, _, ok := parseBuilderWorkflow(builderWorkflow); ok {
		cmd += fmt.Sprintf("  --builder-identity-regexp %s \\\n", escape.Shell(builderIdentity(file).String()))
	}
	return cmd + fmt.Sprintf("  --min-builders %d", minBuilders)
}

// publicKeyName is the name of the public key next to the private key
// file: the name users have, not the runner's path to the private key.
func publicKeyName(key string) string {
	return strings.TrimSuffix(path.Base(strings.ReplaceAll(key, `\`, "/")), ".key") + ".pub"
}

func sortedCulprits(in []Culprit) []Culprit {
	out := append([]Culprit(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].StorePath < out[j].StorePath })
	return out
}

func fileList(files []string, max int) string {
	if len(files) <= max {
		return strings.Join(files, ", ")
	}
	return strings.Join(files[:max], ", ") + fmt.Sprintf(" and %d more", len(files)-max)
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19] + "…"
	}
	return d
}

// mdFiles lists up to max files as inline code, one line.
func mdFiles(files []string, max int) string {
	var fs []string
	for i, f := range files {
		if i == max {
			fs = append(fs, fmt.Sprintf("and %d more", len(files)-max))
			break
		}
		fs = append(fs, escape.Code(f))
	}
	return strings.Join(fs, ", ")
}

// demote turns the headings of embedded Markdown into bold lines, so that
// they do not compete with the summary's own sections.
func demote(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if t := strings.TrimLeft(l, "#"); t != l && strings.HasPrefix(t, " ") {
			lines[i] = "**" + strings.TrimSpace(t) + "**"
		}
	}
	return strings.Join(lines, "\n")
}
