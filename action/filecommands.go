package action

import (
	"fmt"
	"strings"
)

// ParseFileCommands reads a GITHUB_OUTPUT or GITHUB_ENV file as the runner
// does: NAME<<DELIMITER, the value's lines, the delimiter. Tests use it to
// read what nixdock wrote exactly as GitHub would.
func ParseFileCommands(s string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			return nil, fmt.Errorf("file command line %q is not NAME<<DELIMITER", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("file command %s has no closing delimiter", name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out, nil
}
