package lint

// Rule describes one check, for SARIF's rule list and the docs.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Summary says what the rule finds, in one sentence.
	Summary string `json:"summary"`
}

// Rules lists every rule, by area.
var Rules = []Rule{
	{"config-unknown-key", SeverityError, "A key in the image config that no runtime reads, such as Environment for Env."},
	{"config-type", SeverityError, "A config value of the wrong JSON type, such as a string Cmd or a list of ExposedPorts."},
	{"config-env", SeverityError, "An Env entry that is not NAME=value."},
	{"config-no-command", SeverityWarning, "Neither Entrypoint nor Cmd names a program."},
	{"config-exec-missing", SeverityError, "The Entrypoint or Cmd program is not in the image (resolved through symlinks and PATH)."},
	{"config-exec-mode", SeverityError, "The Entrypoint or Cmd program is not an executable file."},
	{"config-exec-interpreter", SeverityError, "The #! interpreter of the Entrypoint or Cmd script is not in the image."},
	{"runtime-ca-certs", SeverityError, "Programs that use TLS, and no CA certificates or SSL_CERT_FILE."},
	{"runtime-services", SeverityWarning, "Networking programs, and no /etc/services or /etc/protocols."},
	{"runtime-nsswitch", SeverityWarning, "Programs that look up hosts or users, and no /etc/nsswitch.conf."},
	{"runtime-passwd", SeverityError, "A non-root User or group that /etc/passwd or /etc/group does not list."},
	{"runtime-locale", SeverityWarning, "glibc programs, a UTF-8 LANG, and no locale archive (LOCALE_ARCHIVE)."},
	{"runtime-tmp", SeverityWarning, "No /tmp, or a /tmp that is not mode 1777."},
	{"size-duplicate", SeverityWarning, "The same file contents stored in several places or layers."},
	{"size-symlink-loop", SeverityWarning, "A directory copied through a symlink loop, many levels deep (tzdata's posix -> .)."},
	{"size-single-layer", SeverityNote, "One layer for the whole closure, and what one layer per store path would save."},
	{"hazard-created", SeverityWarning, "The image's created date is the clock's, not a fixed date."},
	{"hazard-history-date", SeverityWarning, "History entries with a date that is not fixed."},
	{"hazard-mtime", SeverityWarning, "Files whose mtime is not fixed."},
	{"hazard-owner", SeverityWarning, "Files outside the store owned by the build user's ids."},
	{"hazard-unpinned-base", SeverityWarning, "A base image named by tag, not pinned by digest."},
}
