package sbom

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Values from a package's meta are evaluated Nix: any string. Each is
// checked here before it is written, so that one bad value costs that
// value (and a warning), never the schema validity of the whole SBOM.

// CleanURL returns u as an absolute http, https or ftp URL fit for the
// SBOM: white space around it trimmed, inner spaces percent-encoded. Other
// values (no scheme, another scheme, control characters, no host) are an
// error.
func CleanURL(u string) (string, error) {
	s := strings.TrimSpace(u)
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%q is not a URL: it has control characters", u)
		}
	}
	s = strings.ReplaceAll(s, " ", "%20")
	p, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", u, err)
	}
	switch p.Scheme {
	case "http", "https", "ftp":
	default:
		return "", fmt.Errorf("%q is not an http, https or ftp URL", u)
	}
	if p.Host == "" || p.Opaque != "" {
		return "", fmt.Errorf("%q is not a URL: no host", u)
	}
	if strings.ContainsAny(s, "<>\"{}|\\^`") {
		return "", fmt.Errorf("%q is not a URL: it has characters URLs do not hold", u)
	}
	return p.String(), nil
}

// cpe23 is the CPE 2.3 formatted string binding (NISTIR 7695 §6.2), the
// pattern SPDX gives for cpe23Type.
var cpe23 = regexp.MustCompile(`^cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$%&'\(\)\+,/:;<=>@\[\]\^` + "`" + `\{\|}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$%&'\(\)\+,/:;<=>@\[\]\^` + "`" + `\{\|}~]))+(\?*|\*?))|[\*\-])){4}$`)

// cpe22 is a CPE 2.2 URI (cpe:/part:vendor:product:...).
var cpe22 = regexp.MustCompile(`^[cC][pP][eE]:/[AHOaho]?(:[A-Za-z0-9\._\-~%]*){0,6}$`)

// CleanCPE returns s as a CPE 2.3 formatted string: as it is when it is
// one, converted when it is a CPE 2.2 URI (unbound to its components and
// bound again, NISTIR 7695 §6.1.3 and §6.2.2), else an error.
func CleanCPE(s string) (string, error) {
	s = strings.TrimSpace(s)
	if cpe23.MatchString(s) {
		return s, nil
	}
	if !cpe22.MatchString(s) {
		return "", fmt.Errorf("%q is neither a CPE 2.3 formatted string nor a CPE 2.2 URI", s)
	}
	parts := strings.Split(s[5:], ":")
	fields := make([]string, 11)
	for i := range fields {
		fields[i] = "*"
	}
	for i, p := range parts {
		if i == 5 && strings.HasPrefix(p, "~") {
			// Packed edition: ~edition~sw_edition~target_sw~target_hw~other.
			packed := strings.Split(p, "~")
			for j, q := range packed[1:] {
				if j < 5 {
					idx := []int{5, 7, 8, 9, 10}[j]
					v, err := unbindURIValue(q)
					if err != nil {
						return "", fmt.Errorf("CPE 2.2 URI %q: %w", s, err)
					}
					fields[idx] = v
				}
			}
			continue
		}
		v, err := unbindURIValue(p)
		if err != nil {
			return "", fmt.Errorf("CPE 2.2 URI %q: %w", s, err)
		}
		fields[i] = v
	}
	out := "cpe:2.3:" + strings.Join(fields, ":")
	if !cpe23.MatchString(out) {
		return "", fmt.Errorf("CPE 2.2 URI %q does not convert to a valid CPE 2.3 string (%s)", s, out)
	}
	return out, nil
}

// unbindURIValue turns one CPE 2.2 URI component into its formatted
// string form: empty is ANY (*), "-" is NA, %01 and %02 are the ? and *
// wildcards, other percent-encoded characters are quoted with '\'.
func unbindURIValue(v string) (string, error) {
	if v == "" {
		return "*", nil
	}
	if v == "-" {
		return "-", nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' {
			if i+2 >= len(v) {
				return "", fmt.Errorf("bad percent-encoding in %q", v)
			}
			switch code := strings.ToLower(v[i+1 : i+3]); code {
			case "01":
				b.WriteByte('?')
			case "02":
				b.WriteByte('*')
			default:
				var x byte
				if _, err := fmt.Sscanf(code, "%02x", &x); err != nil {
					return "", fmt.Errorf("bad percent-encoding in %q", v)
				}
				b.WriteString(quoteCPE(string(x)))
			}
			i += 2
			continue
		}
		b.WriteString(quoteCPE(string(c)))
	}
	return strings.ToLower(b.String()), nil
}

// quoteCPE quotes the characters a CPE 2.3 formatted string component
// holds only after '\'.
func quoteCPE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
			continue
		}
		if c < 0x21 || c > 0x7e {
			b.WriteByte('_') // white space is _ (NISTIR 7695 5.3.2); CPEs are printable ASCII
			continue
		}
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return b.String()
}

// cpeFromParts binds nixpkgs' meta.identifiers.cpeParts into a CPE 2.3
// formatted string. Part, vendor, product and version are needed (without
// a version nixpkgs lists possibleCPEs instead).
func cpeFromParts(parts map[string]string) string {
	keys := []string{"part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw", "target_hw", "other"}
	if parts["vendor"] == "" || parts["product"] == "" || parts["version"] == "" {
		return ""
	}
	var out []string
	for _, k := range keys {
		v := parts[k]
		switch {
		case k == "part" && v == "":
			v = "a"
		case v == "" || v == "*":
			v = "*"
		case v == "-":
		default:
			v = quoteCPE(v)
		}
		out = append(out, v)
	}
	return "cpe:2.3:" + strings.Join(out, ":")
}
