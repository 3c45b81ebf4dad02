package action

import (
	"strings"
	"testing"

	"github.com/nixdock/nixdock-action/internal/escape/escapetest"
)

// hostileCulprits have store paths, files, causes and hints made of
// attacks.
func hostileCulprits() []Culprit {
	var cs []Culprit
	for i, p := range escapetest.Payloads {
		sp := escapetest.StorePath(i)
		cs = append(cs, Culprit{StorePath: sp, DrvPath: sp + ".drv", Files: []string{sp + "/" + p, p}, Causes: []string{p},
			Hint: "nix-build --check '" + sp + "'"})
	}
	return cs
}

// TestHostileSummary: the job summary shows every hostile name escaped,
// and no name closes the summary's <details> block.
func TestHostileSummary(t *testing.T) {
	s := Summary{
		Mode: ModeVerify, Verdict: VerdictUnreproducible, Installable: escapetest.Payloads[0], Digest: escapetest.Payloads[6],
		Builders: []Builder{{ID: escapetest.Payloads[4], DrvPath: escapetest.StorePath(7) + ".drv", ManifestDigest: escapetest.Payloads[8]}},
		Culprits: hostileCulprits(), Error: strings.Join(escapetest.Payloads, " "),
		Files: map[string]string{escapetest.Payloads[6]: escapetest.Payloads[0]}, Image: escapetest.Payloads[1],
		VerifyCommand: CosignVerifyCommand("ghcr.io/o/r@sha256:ab", "", escapetest.Payloads[11], escapetest.Payloads[3]),
		Details:       "report\n",
	}
	md := s.Markdown()
	escapetest.CheckMarkdown(t, "summary", md)
	if n := strings.Count(escapetest.Prose(md), "</details>"); n != 1 {
		t.Errorf("summary has %d </details>, want 1 (its own):\n%s", n, md)
	}
}

// TestHostileAnnotations: each annotation is one command line on stdout;
// what the runner decodes from it shows the names escaped.
func TestHostileAnnotations(t *testing.T) {
	f := newRunnerFiles(t)
	end := f.runner.Group("nix build " + escapetest.Payloads[0])
	as := CulpritAnnotations(hostileCulprits(), "nix/"+escapetest.Payloads[1])
	for _, a := range as {
		f.runner.Error(a)
	}
	f.runner.Notice(escapetest.Payloads[4], escapetest.Payloads[0])
	end()
	lines := strings.Split(strings.TrimSuffix(f.stdout.String(), "\n"), "\n")
	if want := len(as) + 3; len(lines) != want {
		t.Fatalf("%d lines on stdout, want %d (one per command):\n%s", len(lines), want, f.stdout.String())
	}
	for _, l := range lines {
		name, props, msg := parseCommand(t, l)
		if name != "group" && name != "endgroup" && name != "error" && name != "notice" {
			t.Errorf("unexpected command %q in %q", name, l)
		}
		for k, v := range props {
			escapetest.CheckText(t, "annotation "+k, v)
		}
		escapetest.CheckText(t, "annotation message", msg)
	}
}

// parseCommand reads a workflow command line as the runner does: the name,
// the properties up to "::", the message, each unescaped.
func parseCommand(t *testing.T, line string) (string, map[string]string, string) {
	t.Helper()
	rest, ok := strings.CutPrefix(line, "::")
	if !ok {
		t.Fatalf("not a command: %q", line)
	}
	head, msg, ok := strings.Cut(rest, "::")
	if !ok {
		t.Fatalf("no message separator: %q", line)
	}
	name, plist, _ := strings.Cut(head, " ")
	props := map[string]string{}
	for _, kv := range strings.Split(plist, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			props[k] = unescapeCommand(v)
		}
	}
	return name, props, unescapeCommand(msg)
}

func unescapeCommand(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}
