package record

import (
	"fmt"
	"sort"
	"strings"
)

// Installable names what to build, as users write it: a flake reference
// (".#image", "path:./x#image") or the classic form (-f default.nix -A image).
type Installable struct {
	// Flake is a flake reference with an attribute, such as ".#image".
	Flake string `json:"flake,omitempty"`
	// File and Attr are the classic form: nix-build FILE -A ATTR.
	File string `json:"file,omitempty"`
	Attr string `json:"attr,omitempty"`
	// ArgStr are --argstr NAME VALUE pairs for the classic form.
	ArgStr map[string]string `json:"argstr,omitempty"`
}

// Validate reports a usage error when the installable is empty or mixes forms.
func (i Installable) Validate() error {
	switch {
	case i.Flake == "" && i.File == "":
		return fmt.Errorf("no installable: give a flake reference (.#image) or a Nix file and an attribute")
	case i.Flake != "" && i.File != "":
		return fmt.Errorf("flake reference %q and Nix file %q: give one or the other", i.Flake, i.File)
	case i.Flake != "" && !strings.Contains(i.Flake, "#"):
		return fmt.Errorf("flake reference %q has no attribute: write it as %s#image", i.Flake, i.Flake)
	case len(i.ArgStr) > 0 && i.File == "":
		return fmt.Errorf("string arguments (argstr) apply to a Nix file only, not to a flake")
	}
	return nil
}

// String is the installable as a user would type it on the command line.
func (i Installable) String() string {
	if i.Flake != "" {
		return i.Flake
	}
	s := "-f " + i.File
	if i.Attr != "" {
		s += " -A " + i.Attr
	}
	for _, k := range sortedKeys(i.ArgStr) {
		s += fmt.Sprintf(" --argstr %s %q", k, i.ArgStr[k])
	}
	return s
}

// nixArgs are the arguments that select the installable for `nix build` and
// `nix eval`.
func (i Installable) Args() []string {
	if i.Flake != "" {
		return []string{i.Flake}
	}
	args := []string{"--file", i.File}
	for _, k := range sortedKeys(i.ArgStr) {
		args = append(args, "--argstr", k, i.ArgStr[k])
	}
	// An empty attribute path builds the file's top-level value.
	return append(args, i.Attr)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
