package escape

import (
	"sort"
	"strings"
)

// CommandData escapes a workflow command's message as the GitHub runner
// reads it back (%, CR and LF), so it stays on the command's line.
func CommandData(s string) string {
	return dataReplacer.Replace(s)
}

// CommandProperty escapes a workflow command's property value (%, CR, LF,
// ':' and ','), so it cannot end the property list or the command.
func CommandProperty(s string) string {
	return propReplacer.Replace(s)
}

var (
	dataReplacer = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propReplacer = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// Command is one workflow command line, "::name k=v,k=v::message" (no line
// end), with properties sorted by name and every value escaped. name and
// the property names are nixdock's own; values and message are escaped
// here, and human text in them should be Text first (the runner shows the
// log line).
func Command(name string, props map[string]string, message string) string {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(name)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + CommandProperty(props[k]))
	}
	b.WriteString("::")
	b.WriteString(CommandData(message))
	return b.String()
}
