package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// programs are the image's programs (not libraries) whose markers show
// each need, in path order.
type programs map[need][]*entry

func findPrograms(m *model) programs {
	ps := programs{}
	// Filtered before sorting, as in checkOwners.
	var progs []string
	for p, e := range m.final {
		if e.regular() && e.markers != 0 && !isLibrary(p) {
			progs = append(progs, p)
		}
	}
	slices.Sort(progs)
	for _, p := range progs {
		e := m.final[p]
		n := e.markers.needs()
		for _, bit := range []need{needTLS, needNet, needNSS, needGlibc} {
			if n&bit != 0 {
				ps[bit] = append(ps[bit], e)
			}
		}
	}
	return ps
}

// evidence describes up to three programs and the markers that show n.
func (ps programs) evidence(n need) []string {
	var out []string
	for i, e := range ps[n] {
		if i == 3 {
			out = append(out, fmt.Sprintf("and %d more programs", len(ps[n])-3))
			break
		}
		out = append(out, fmt.Sprintf("%s contains %s", e.path, strings.Join(e.markers.names(n), ", ")))
	}
	return out
}

func checkRuntime(m *model, _ Options) []Finding {
	var cfg map[string]json.RawMessage
	_ = json.Unmarshal(m.config["config"], &cfg)
	env := envMap(cfg)
	ps := findPrograms(m)
	var fs []Finding
	fs = append(fs, checkCACerts(m, env, ps)...)
	fs = append(fs, checkServices(m, ps)...)
	fs = append(fs, checkNSSwitch(m, ps)...)
	fs = append(fs, checkUser(m, cfg)...)
	fs = append(fs, checkLocale(m, env, ps)...)
	return append(fs, checkTmp(m)...)
}

var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-bundle.crt",
	"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
}

func checkCACerts(m *model, env map[string]string, ps programs) []Finding {
	if len(ps[needTLS]) == 0 {
		return nil
	}
	ev := ps.evidence(needTLS)
	for _, v := range []string{"SSL_CERT_FILE", "NIX_SSL_CERT_FILE"} {
		f, ok := env[v]
		if !ok {
			continue
		}
		if _, _, ok := m.resolveFile(f); ok {
			return nil
		}
		ev = append(ev, fmt.Sprintf("%s=%s, which is not a file in the image", v, f))
	}
	for _, f := range caBundles {
		if _, _, ok := m.resolveFile(f); ok {
			return nil
		}
	}
	ev = append(ev, "none of "+strings.Join(caBundles, ", ")+" is in the image")
	return []Finding{{
		ID: "runtime-ca-certs", Severity: SeverityError,
		Title:    "Programs that use TLS, but no CA certificates",
		Evidence: ev,
		Fix: "Add pkgs.cacert: `copyToRoot = [ pkgs.cacert ];` (buildLayeredImage: `contents`) gives " +
			"/etc/ssl/certs/ca-bundle.crt, or set `Env = [ \"SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt\" ];`. " +
			"Without them every TLS connection fails certificate verification.",
		Location: fileLocation(ps[needTLS][0]),
	}}
}

func checkServices(m *model, ps programs) []Finding {
	if len(ps[needNet]) == 0 {
		return nil
	}
	var missing []string
	for _, f := range []string{"/etc/services", "/etc/protocols"} {
		if _, _, ok := m.resolveFile(f); !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []Finding{{
		ID: "runtime-services", Severity: SeverityWarning,
		Title:    "Networking programs, but no " + strings.Join(missing, " or "),
		Evidence: append(ps.evidence(needNet), strings.Join(missing, " and ")+" missing: service names (\"https\") and protocol names do not resolve"),
		Fix:      "Add pkgs.iana-etc to `copyToRoot` (buildLayeredImage: `contents`): it provides /etc/services and /etc/protocols.",
		Location: Location{Path: missing[0]},
	}}
}

func checkNSSwitch(m *model, ps programs) []Finding {
	if len(ps[needNSS]) == 0 {
		return nil
	}
	if _, _, ok := m.resolveFile("/etc/nsswitch.conf"); ok {
		return nil
	}
	return []Finding{{
		ID: "runtime-nsswitch", Severity: SeverityWarning,
		Title: "Programs that look up hosts or users, but no /etc/nsswitch.conf",
		Evidence: append(ps.evidence(needNSS), "/etc/nsswitch.conf missing: glibc then asks DNS before /etc/hosts "+
			"(localhost goes to the network), and Go's resolver changes its order"),
		Fix: "Add dockerTools.fakeNss to `copyToRoot` (it provides /etc/nsswitch.conf, /etc/passwd and /etc/group), " +
			"or write it: `(pkgs.writeTextDir \"etc/nsswitch.conf\" \"hosts: files dns\\n\")`.",
		Location: Location{Path: "/etc/nsswitch.conf"},
	}}
}

// checkUser checks that a non-root User and its group can be looked up.
func checkUser(m *model, cfg map[string]json.RawMessage) []Finding {
	var u string
	if json.Unmarshal(cfg["User"], &u) != nil || u == "" {
		return nil
	}
	user, group, _ := strings.Cut(u, ":")
	var fs []Finding
	if f, ok := lookupID(m, "/etc/passwd", "user", user); !ok {
		fs = append(fs, f)
	}
	if group != "" {
		if f, ok := lookupID(m, "/etc/group", "group", group); !ok {
			fs = append(fs, f)
		}
	}
	return fs
}

var numeric = regexp.MustCompile(`^[0-9]+$`)

// lookupID finds name (or a numeric id) in the passwd or group file.
func lookupID(m *model, file, what, name string) (Finding, bool) {
	if name == "root" || name == "0" {
		return Finding{}, true
	}
	ids, err := readIDs(m, file)
	if err == nil {
		for _, id := range ids {
			if id[0] == name || id[1] == name {
				return Finding{}, true
			}
		}
	}
	sev := SeverityError
	why := fmt.Sprintf("the runtime looks %q up in %s to start the container, and fails", name, file)
	if numeric.MatchString(name) {
		sev = SeverityWarning
		why = fmt.Sprintf("%s %s has no entry in %s: programs that look it up (whoami, ssh, getpwuid) fail and HOME is /", what, name, file)
	}
	ev := []string{why}
	if err != nil {
		ev = append(ev, err.Error())
	}
	return Finding{
		ID: "runtime-passwd", Severity: sev,
		Title:    fmt.Sprintf("config.User names %s %q, which %s does not list", what, name, file),
		Evidence: ev,
		Fix: "Add the user and group: dockerTools.fakeNss.override { extraPasswdLines = [ \"app:x:1000:1000::/home/app:/bin/sh\" ]; " +
			"extraGroupLines = [ \"app:x:1000:\" ]; } in `copyToRoot`, or write /etc/passwd and /etc/group with pkgs.writeTextDir; " +
			"or use numeric ids (`User = \"1000:1000\"`).",
		Location: Location{ConfigKey: "config.User"},
	}, false
}

// readIDs parses a passwd or group file into (name, id) pairs.
func readIDs(m *model, file string) ([][2]string, error) {
	rp, _, ok := m.resolveFile(file)
	if !ok {
		return nil, fmt.Errorf("%s is not in the image", file)
	}
	data, ok := m.contents[rp]
	if !ok {
		return nil, fmt.Errorf("%s resolves to %s, which is larger than nixdock reads", file, rp)
	}
	var ids [][2]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 3 && !strings.HasPrefix(f[0], "#") {
			ids = append(ids, [2]string{f[0], f[2]})
		}
	}
	return ids, nil
}

// builtinLocales are the locales glibc has without a locale archive.
var builtinLocales = []string{"", "C", "POSIX", "C.UTF-8", "C.utf8"}

var utf8Locale = regexp.MustCompile(`(?i)utf-?8`)

func checkLocale(m *model, env map[string]string, ps programs) []Finding {
	if len(ps[needGlibc]) == 0 {
		return nil
	}
	var asks []string
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if l, ok := env[v]; ok && utf8Locale.MatchString(l) && !slices.Contains(builtinLocales, l) {
			asks = append(asks, v+"="+l)
		}
	}
	if len(asks) == 0 {
		return nil
	}
	ev := append([]string{strings.Join(asks, ", ") + " asks for a UTF-8 locale"}, ps.evidence(needGlibc)...)
	if a, ok := env["LOCALE_ARCHIVE"]; ok {
		if _, _, ok := m.resolveFile(a); ok {
			return nil
		}
		ev = append(ev, fmt.Sprintf("LOCALE_ARCHIVE=%s, which is not a file in the image", a))
	} else if _, _, ok := m.resolveFile("/usr/lib/locale/locale-archive"); ok {
		return nil
	} else {
		ev = append(ev, "LOCALE_ARCHIVE is not set and /usr/lib/locale/locale-archive is not in the image")
	}
	return []Finding{{
		ID: "runtime-locale", Severity: SeverityWarning,
		Title:    "A UTF-8 locale is asked for, but glibc has no locale archive",
		Evidence: ev,
		Fix: "Set `Env = [ \"LOCALE_ARCHIVE=${pkgs.glibcLocalesUtf8}/lib/locale/locale-archive\" ];` (or pkgs.glibcLocales), " +
			"or use LANG=C.UTF-8, which glibc 2.35 and later has built in. Otherwise glibc falls back to the C locale and " +
			"non-ASCII text is mangled.",
		Location: Location{ConfigKey: "config.Env"},
	}}
}

func checkTmp(m *model) []Finding {
	rp, e, err := m.resolve("/tmp")
	fix := "Create it in the image's extra layer: `extraCommands = \"mkdir -p -m 1777 tmp\";` (buildImage, " +
		"buildLayeredImage, streamLayeredImage), or `fakeRootCommands` with `chmod 1777 tmp`."
	if err != nil || (e != nil && e.typ != '5') {
		return []Finding{{
			ID: "runtime-tmp", Severity: SeverityWarning,
			Title:    "The image has no /tmp",
			Evidence: []string{"/tmp is not a directory in the image: programs that create temporary files (mktemp, tmpfile(), os.CreateTemp) fail unless the runtime mounts one"},
			Fix:      fix, Location: Location{Path: "/tmp"},
		}}
	}
	if e != nil && e.mode&0o1777 != 0o1777 {
		return []Finding{{
			ID: "runtime-tmp", Severity: SeverityWarning,
			Title:    fmt.Sprintf("/tmp has mode %04o, not 1777", e.mode),
			Evidence: []string{fmt.Sprintf("%s has mode %04o: a non-root user cannot create files in it", rp, e.mode)},
			Fix:      fix, Location: fileLocation(e),
		}}
	}
	return nil
}
