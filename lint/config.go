package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// The keys of the image config file (OCI image spec and Docker's).
var topKeys = []string{
	"architecture", "author", "config", "container", "container_config", "created",
	"docker_version", "history", "os", "os.features", "os.version", "rootfs", "variant",
}

// The keys of its "config" object, with the JSON kind each must have.
var configKinds = map[string]string{
	"User": "string", "ExposedPorts": "object", "Env": "array", "Entrypoint": "array",
	"Cmd": "array", "Volumes": "object", "WorkingDir": "string", "Labels": "object",
	"StopSignal": "string", "ArgsEscaped": "boolean", "Healthcheck": "object",
	"Shell": "array", "OnBuild": "array", "StopTimeout": "number", "Hostname": "string",
	"Domainname": "string", "AttachStdin": "boolean", "AttachStdout": "boolean",
	"AttachStderr": "boolean", "Tty": "boolean", "OpenStdin": "boolean",
	"StdinOnce": "boolean", "Image": "string", "NetworkDisabled": "boolean",
	"MacAddress": "string", "Memory": "number", "MemorySwap": "number", "CpuShares": "number",
}

// Names people write for config keys, lowercased, and the key they mean.
var keyAliases = map[string]string{
	"environment": "Env", "environ": "Env", "envs": "Env", "variables": "Env", "vars": "Env",
	"command": "Cmd", "cmds": "Cmd", "args": "Cmd", "entry": "Entrypoint",
	"ports": "ExposedPorts", "port": "ExposedPorts", "expose": "ExposedPorts",
	"exposed_ports": "ExposedPorts", "workdir": "WorkingDir", "cwd": "WorkingDir",
	"volume": "Volumes", "label": "Labels", "stop_signal": "StopSignal",
}

const fixConfigKey = "Rename the key in the `config` attribute set of dockerTools.buildImage/buildLayeredImage/streamLayeredImage. " +
	"Nix passes `config` through to the image unchecked, and container runtimes silently ignore keys they do not know. " +
	"The keys are those of the OCI image config: Env, Entrypoint, Cmd, User, WorkingDir, ExposedPorts, Volumes, Labels, StopSignal."

func checkConfig(m *model, _ Options) []Finding {
	var fs []Finding
	for _, k := range sortedKeys(m.config) {
		if !slices.Contains(topKeys, k) {
			fs = append(fs, unknownKey(k, k, topKeys, "image config file"))
		}
	}
	for _, k := range []string{"created", "architecture", "os", "author"} {
		if raw, ok := m.config[k]; ok && kindOf(raw) != "string" {
			fs = append(fs, wrongType(k, "string", raw))
		}
	}
	raw, ok := m.config["config"]
	if !ok || kindOf(raw) == "null" {
		return append(fs, noCommand("the image has no config object"))
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return append(fs, wrongType("config", "object", raw))
	}
	known := make([]string, 0, len(configKinds))
	for k := range configKinds {
		known = append(known, k)
	}
	slices.Sort(known)
	for _, k := range sortedKeys(cfg) {
		want, ok := configKinds[k]
		switch {
		case !ok:
			fs = append(fs, unknownKey("config."+k, k, known, "config object"))
		case kindOf(cfg[k]) != want && kindOf(cfg[k]) != "null":
			fs = append(fs, wrongType("config."+k, want, cfg[k]))
		}
	}
	fs = append(fs, checkShapes(cfg)...)
	fs = append(fs, checkEnv(cfg)...)
	return append(fs, checkCommand(m, cfg)...)
}

func unknownKey(key, name string, known []string, where string) Finding {
	title := fmt.Sprintf("Unknown key %q in the %s", name, where)
	if s := suggest(name, known); s != "" {
		title += fmt.Sprintf("; did you mean %q?", s)
	}
	return Finding{
		ID: "config-unknown-key", Severity: SeverityError, Title: title,
		Evidence: []string{fmt.Sprintf("%s is set, and no runtime reads it", key)},
		Fix:      fixConfigKey, Location: Location{ConfigKey: key},
	}
}

func wrongType(key, want string, raw json.RawMessage) Finding {
	return Finding{
		ID: "config-type", Severity: SeverityError,
		Title:    fmt.Sprintf("%s is a JSON %s, but must be %s", key, kindOf(raw), article(want)),
		Evidence: []string{fmt.Sprintf("%s = %s", key, abbreviate(string(raw), 120))},
		Fix: "Write the value with the type the OCI image config requires: lists for Env, Entrypoint and Cmd " +
			"(`Cmd = [ \"${pkgs.hello}/bin/hello\" ];`), attribute sets for ExposedPorts, Volumes and Labels " +
			"(`ExposedPorts = { \"8080/tcp\" = { }; };`), strings for label values. Runtimes reject or misread other types.",
		Location: Location{ConfigKey: key},
	}
}

var portKey = regexp.MustCompile(`^[0-9]{1,5}(/(tcp|udp|sctp))?$`)

// checkShapes checks what is inside the objects: port names, empty-object
// values, string label values.
func checkShapes(cfg map[string]json.RawMessage) []Finding {
	var fs []Finding
	for _, k := range []string{"ExposedPorts", "Volumes", "Labels"} {
		var obj map[string]json.RawMessage
		if json.Unmarshal(cfg[k], &obj) != nil {
			continue
		}
		for _, name := range sortedKeys(obj) {
			key := fmt.Sprintf("config.%s[%q]", k, name)
			switch {
			case k == "Labels" && kindOf(obj[name]) != "string":
				fs = append(fs, wrongType(key, "string", obj[name]))
			case k != "Labels" && kindOf(obj[name]) != "object":
				fs = append(fs, wrongType(key, "object", obj[name]))
			case k == "ExposedPorts" && !portKey.MatchString(name):
				f := wrongType(key, "object", obj[name])
				f.Title = fmt.Sprintf("%s: %q is not a port such as \"8080/tcp\"", key, name)
				fs = append(fs, f)
			}
		}
	}
	return fs
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

func checkEnv(cfg map[string]json.RawMessage) []Finding {
	var env []json.RawMessage
	if json.Unmarshal(cfg["Env"], &env) != nil {
		return nil
	}
	var fs []Finding
	for i, raw := range env {
		key := fmt.Sprintf("config.Env[%d]", i)
		var s string
		if json.Unmarshal(raw, &s) != nil {
			fs = append(fs, wrongType(key, "string", raw))
			continue
		}
		name, _, ok := strings.Cut(s, "=")
		if ok && envName.MatchString(name) {
			continue
		}
		why := "it has no \"=\", so runtimes drop it or pass an empty variable"
		if ok {
			why = fmt.Sprintf("%q is not a variable name", name)
		}
		fs = append(fs, Finding{
			ID: "config-env", Severity: SeverityError,
			Title:    fmt.Sprintf("Env entry %q is not NAME=value", abbreviate(s, 60)),
			Evidence: []string{fmt.Sprintf("%s = %q: %s", key, abbreviate(s, 120), why)},
			Fix:      "Write each entry of `config.Env` as \"NAME=value\", such as `Env = [ \"PATH=${pkgs.coreutils}/bin\" \"DEBUG=1\" ];`.",
			Location: Location{ConfigKey: key},
		})
	}
	return fs
}

// stringList decodes a JSON list of strings; ok is false for anything else.
func stringList(raw json.RawMessage) ([]string, bool) {
	var l []string
	if json.Unmarshal(raw, &l) != nil {
		return nil, false
	}
	return l, true
}

// envMap decodes config.Env into a map (the last entry of a name wins).
func envMap(cfg map[string]json.RawMessage) map[string]string {
	env := map[string]string{}
	l, _ := stringList(cfg["Env"])
	for _, kv := range l {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func noCommand(why string) Finding {
	return Finding{
		ID: "config-no-command", Severity: SeverityWarning,
		Title:    "The image has no Entrypoint or Cmd to run",
		Evidence: []string{why},
		Fix: "Set `config.Entrypoint` or `config.Cmd` to a list whose first element is a program in the image, " +
			"by store path: `Cmd = [ \"${pkgs.hello}/bin/hello\" ];`.",
		Location: Location{ConfigKey: "config"},
	}
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// checkCommand checks that the program the container runs is in the image,
// is executable and, for a script, that its interpreter is there too.
func checkCommand(m *model, cfg map[string]json.RawMessage) []Finding {
	key := "config.Entrypoint"
	argv, _ := stringList(cfg["Entrypoint"])
	if len(argv) == 0 {
		key = "config.Cmd"
		argv, _ = stringList(cfg["Cmd"])
	}
	if len(argv) == 0 {
		return []Finding{noCommand("neither config.Entrypoint nor config.Cmd is a non-empty list of strings")}
	}
	key += "[0]"
	env := envMap(cfg)
	search := defaultPath
	if p, ok := env["PATH"]; ok {
		search = p
	}
	p, e, why := findProgram(m, argv[0], search)
	if e == nil {
		return []Finding{execMissing(key, argv[0], why)}
	}
	if !e.regular() || e.mode&0o111 == 0 {
		return []Finding{{
			ID: "config-exec-mode", Severity: SeverityError,
			Title:    fmt.Sprintf("%s %s is not an executable file", key, argv[0]),
			Evidence: []string{fmt.Sprintf("%s resolves to %s, %s", argv[0], p, describeMode(e))},
			Fix: "Point the command at the package's program (its bin/ directory), or make the file executable " +
				"in the derivation that builds it (`chmod +x $out/bin/x`): the store keeps only the executable bit.",
			Location: fileLocation(e),
		}}
	}
	if e.head() == "" {
		return nil
	}
	return checkInterpreter(m, key, p, e, search)
}

func execMissing(key, prog, why string) Finding {
	return Finding{
		ID: "config-exec-missing", Severity: SeverityError,
		Title:    fmt.Sprintf("%s %s is not in the image", key, prog),
		Evidence: []string{why},
		Fix: "Refer to the program by store path, which also puts its package in the image's closure: " +
			"`Entrypoint = [ \"${pkgs.hello}/bin/hello\" ];`. A path such as /bin/hello exists only if a package " +
			"in `copyToRoot` (buildImage) or `contents` (buildLayeredImage) provides it.",
		Location: Location{ConfigKey: key},
	}
}

// findProgram finds prog as the runtime would: an absolute path, or a name
// looked up in PATH. It returns the resolved path and entry, or nil and why.
func findProgram(m *model, prog, search string) (string, *entry, string) {
	if strings.Contains(prog, "/") {
		if !path.IsAbs(prog) {
			prog = path.Join("/", prog)
		}
		rp, e, err := m.resolve(prog)
		if err != nil {
			return "", nil, fmt.Sprintf("%s does not resolve inside the image: %v", prog, err)
		}
		return rp, e, ""
	}
	var tried []string
	for _, dir := range strings.Split(search, ":") {
		if dir == "" {
			continue
		}
		cand := path.Join(dir, prog)
		if rp, e, ok := m.resolveFile(cand); ok && e.mode&0o111 != 0 {
			return rp, e, ""
		}
		tried = append(tried, cand)
	}
	return "", nil, fmt.Sprintf("%s is not found in the image's PATH (tried %s)", prog, strings.Join(tried, ", "))
}

func checkInterpreter(m *model, key, p string, e *entry, search string) []Finding {
	fields := strings.Fields(e.head())
	if len(fields) == 0 {
		return nil
	}
	interp := fields[0]
	if _, _, ok := m.resolveFile(interp); ok {
		if path.Base(interp) != "env" || len(fields) < 2 {
			return nil
		}
		// #!/usr/bin/env NAME looks NAME up in PATH at run time.
		if _, ie, _ := findProgram(m, fields[1], search); ie != nil {
			return nil
		}
		interp = fields[1]
	}
	return []Finding{{
		ID: "config-exec-interpreter", Severity: SeverityError,
		Title:    fmt.Sprintf("The interpreter of %s, %s, is not in the image", key, interp),
		Evidence: []string{fmt.Sprintf("%s starts with #!%s", p, e.head())},
		Fix: "Write the #! line with a store path so the interpreter is in the closure: build the script with " +
			"pkgs.writeShellScript or pkgs.writeShellApplication (they use ${pkgs.runtimeShell}), or run patchShebangs " +
			"in its derivation; or add the interpreter (pkgs.bashInteractive, pkgs.busybox) to the image.",
		Location: fileLocation(e),
	}}
}

func describeMode(e *entry) string {
	switch {
	case e == nil:
		return "a directory"
	case e.typ == '5':
		return "a directory"
	case e.regular():
		return fmt.Sprintf("a file with mode %04o", e.mode)
	}
	return "not a regular file"
}

// kindOf names the JSON type of raw.
func kindOf(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "null"
	}
	switch b[0] {
	case '"':
		return "string"
	case '[':
		return "array"
	case '{':
		return "object"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// suggest returns the known key that name most likely means, or "".
func suggest(name string, known []string) string {
	lower := strings.ToLower(name)
	for _, k := range known {
		if strings.ToLower(k) == lower {
			return k
		}
	}
	if a, ok := keyAliases[lower]; ok && slices.Contains(known, a) {
		return a
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := levenshtein(lower, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// configField returns the raw value of config.<key>, or nil.
func configField(m *model, key string) json.RawMessage {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(m.config["config"], &cfg) != nil {
		return nil
	}
	return cfg[key]
}

func article(kind string) string {
	if kind == "array" || kind == "object" {
		return "an " + kind
	}
	return "a " + kind
}
