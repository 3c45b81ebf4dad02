package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nixdock/nixdock-action/internal/escape"
	"github.com/nixdock/nixdock-action/internal/humanize"
)

// WriteJSON writes the result as one JSON document (schema
// nixdock.dev/lint/v1).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// maxSizes is how many store paths the text and Markdown list.
const maxSizes = 10

// WriteText writes the result for people.
func (r *Result) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	// Sources, locations, titles, evidence and fixes name files and
	// labels of the image: every one is escaped.
	fmt.Fprintf(b, "%s (%s)\n", escape.Text(r.Image.Source), escape.Text(r.imageSummary()))
	for _, f := range r.Findings {
		fmt.Fprintf(b, "\n%-7s %s  %s\n  %s\n", f.Severity, f.ID, escape.Text(f.Location.String()), escape.Text(f.Title))
		for _, e := range f.Evidence {
			fmt.Fprintf(b, "  - %s\n", escape.Text(e))
		}
		fmt.Fprintf(b, "  fix: %s\n", escape.Text(f.Fix))
	}
	if len(r.Sizes) > 0 {
		fmt.Fprintf(b, "\nSize by store path, largest first:\n")
		for i, s := range r.Sizes {
			if i == maxSizes {
				fmt.Fprintf(b, "  … and %d more\n", len(r.Sizes)-maxSizes)
				break
			}
			fmt.Fprintf(b, "  %10s  %s\n", humanize.Bytes(s.Bytes), escape.Text(s.StorePath))
		}
	}
	fmt.Fprintf(b, "\n%s\n", r.countsLine())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the result as Markdown, for a GitHub job summary.
func (r *Result) WriteMarkdown(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "### nixdock lint: %s\n\n%s: %s.\n\n", escape.Code(r.Image.Source), escape.Markdown(r.imageSummary()), r.countsLine())
	if len(r.Findings) > 0 {
		b.WriteString("| Severity | Rule | Location | Finding |\n| --- | --- | --- | --- |\n")
		for _, f := range r.Findings {
			fmt.Fprintf(b, "| %s %s | %s | %s | %s |\n", severityIcon(f.Severity), f.Severity, escape.Code(f.ID),
				escape.Code(f.Location.String()), escape.Markdown(f.Title))
		}
		b.WriteString("\n")
		for _, f := range r.Findings {
			fmt.Fprintf(b, "<details><summary><code>%s</code> %s</summary>\n\n", escape.HTML(f.ID), escape.HTML(f.Title))
			for _, e := range f.Evidence {
				fmt.Fprintf(b, "- %s\n", escape.Markdown(e))
			}
			// Fixes are nixdock's own Markdown, never built from the image.
			fmt.Fprintf(b, "\n**Fix:** %s\n\n</details>\n\n", f.Fix)
		}
	}
	if len(r.Sizes) > 0 {
		b.WriteString("<details><summary>Size by store path</summary>\n\n| Size | Store path | Files |\n| ---: | --- | ---: |\n")
		for i, s := range r.Sizes {
			if i == maxSizes {
				fmt.Fprintf(b, "| | … and %d more | |\n", len(r.Sizes)-maxSizes)
				break
			}
			fmt.Fprintf(b, "| %s | %s | %d |\n", humanize.Bytes(s.Bytes), escape.Code(s.StorePath), s.Files)
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) imageSummary() string {
	form := r.Image.Form
	if form != "" {
		form += ", "
	}
	return fmt.Sprintf("%s%s, %s, %s", form, plural(r.Image.Layers, "layer", "layers"), plural(r.Image.Files, "file", "files"), humanize.Bytes(r.Image.Bytes))
}

func (r *Result) countsLine() string {
	c := r.Counts
	if c.Errors+c.Warnings+c.Notes == 0 {
		return "no findings"
	}
	return fmt.Sprintf("%s, %s, %s", plural(c.Errors, "error", "errors"), plural(c.Warnings, "warning", "warnings"), plural(c.Notes, "note", "notes"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func severityIcon(s Severity) string {
	switch s {
	case SeverityError:
		return "❌"
	case SeverityWarning:
		return "⚠️"
	}
	return "ℹ️"
}

// artifactURI is the file SARIF results point at.
func artifactURI(set string, info ImageInfo) string {
	if set != "" {
		return set
	}
	switch info.Form {
	case "docker-archive", "stream", "oci-layout":
		if info.Source != "" {
			return filepath.ToSlash(filepath.Base(info.Source))
		}
	}
	return "image"
}
