package escape

import (
	"regexp"
	"strings"
)

// jwtRE matches what looks like a JSON Web Token (a base64url header that
// starts with '{"', then one or two more parts): a service that echoes a
// request can echo the bearer token.
var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}(\.[A-Za-z0-9_-]+){1,2}\.?`)

// Remote returns text a remote service sent (an error body) for one line
// of a message: tokens redacted, each value in secrets removed, cut to max
// characters and escaped as Text.
func Remote(s string, max int, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = jwtRE.ReplaceAllString(s, "[redacted token]")
	return Text(Cut(strings.Join(strings.Fields(s), " "), max))
}
