package lint

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nixdock/nixdock-action/internal/storepath"
)

// stdenvEpoch is 1980-01-01T00:00:00Z: stdenv's default SOURCE_DATE_EPOCH
// (dockerTools packs the customisation layer with it) and the earliest
// date a zip entry can hold.
const stdenvEpoch = 315532800

// fixedTime says whether t is a date a reproducible build gives: the epoch,
// dockerTools' 1970-01-01T00:00:01Z, stdenv's 1980-01-01, or
// SOURCE_DATE_EPOCH.
func fixedTime(t time.Time, opts Options) bool {
	s := t.Unix()
	if (s <= 1 || s == stdenvEpoch) && t.Nanosecond() == 0 {
		return true
	}
	return opts.SourceDateEpoch != nil && s == *opts.SourceDateEpoch && t.Nanosecond() == 0
}

func checkHazards(m *model, opts Options) []Finding {
	var fs []Finding
	fs = append(fs, checkCreated(m, opts)...)
	fs = append(fs, checkHistory(m, opts)...)
	fs = append(fs, checkMtimes(m, opts)...)
	fs = append(fs, checkOwners(m)...)
	return append(fs, checkBase(m)...)
}

// fixCreated builds an ISO date from a flake's lastModifiedDate, which is
// YYYYMMDDHHMMSS (14 characters), not an ISO date itself.
const fixCreated = "Leave `created` at dockerTools' default, 1970-01-01T00:00:01Z, instead of \"now\", or set it from the " +
	"source, such as the commit date: with `d = self.lastModifiedDate;` (YYYYMMDDHHMMSS), " +
	"`created = \"${builtins.substring 0 4 d}-${builtins.substring 4 2 d}-${builtins.substring 6 2 d}T" +
	"${builtins.substring 8 2 d}:${builtins.substring 10 2 d}:${builtins.substring 12 2 d}Z\";`, and pass the same date " +
	"to nixdock lint as SOURCE_DATE_EPOCH (`self.lastModified`). A clock date changes the config, and so the image digest, on every build."

func checkCreated(m *model, opts Options) []Finding {
	var s string
	if json.Unmarshal(m.config["created"], &s) != nil || s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil && fixedTime(t, opts) {
		return nil
	}
	why := "it is neither the epoch nor SOURCE_DATE_EPOCH"
	if err != nil {
		why = "it is not an RFC 3339 date"
	} else if t.Nanosecond() != 0 {
		why = "its fraction of a second shows it was read from the clock"
	}
	return []Finding{{
		ID: "hazard-created", Severity: SeverityWarning,
		Title:    "The image's created date is not fixed",
		Evidence: []string{fmt.Sprintf("created is %s: %s", s, why)},
		Fix:      fixCreated, Location: Location{ConfigKey: "created"},
	}}
}

func checkHistory(m *model, opts Options) []Finding {
	var hist []struct {
		Created string `json:"created"`
	}
	if json.Unmarshal(m.config["history"], &hist) != nil {
		return nil
	}
	var bad []string
	key := ""
	for i, h := range hist {
		if h.Created == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, h.Created); err == nil && fixedTime(t, opts) {
			continue
		}
		if key == "" {
			key = fmt.Sprintf("history[%d].created", i)
		}
		bad = append(bad, fmt.Sprintf("history[%d].created is %s", i, h.Created))
	}
	if len(bad) == 0 {
		return nil
	}
	return []Finding{{
		ID: "hazard-history-date", Severity: SeverityWarning,
		Title:    fmt.Sprintf("%s a date that is not fixed", plural(len(bad), "history entry has", "history entries have")),
		Evidence: bad,
		Fix: "History dates come from `created` (dockerTools) or from fromImage's layers: fix `created` as for " +
			"hazard-created, and build fromImage from Nix or pull it pinned by digest.",
		Location: Location{ConfigKey: key},
	}}
}

// checkMtimes reports, per layer, files whose mtime is not fixed.
func checkMtimes(m *model, opts Options) []Finding {
	type agg struct {
		n     int
		first *entry
		times map[int64]bool
	}
	by := map[int]*agg{}
	for _, e := range m.entries {
		if fixedTime(time.Unix(e.mtime, int64(e.nsec)), opts) {
			continue
		}
		a := by[int(e.layer)]
		if a == nil {
			a = &agg{first: e, times: map[int64]bool{}}
			by[int(e.layer)] = a
		}
		// A file is a better example than a directory such as "/".
		if e.regular() && !a.first.regular() {
			a.first = e
		}
		a.n++
		a.times[e.mtime] = true
	}
	var fs []Finding
	for _, l := range sortedInts(by) {
		a := by[l]
		fs = append(fs, Finding{
			ID: "hazard-mtime", Severity: SeverityWarning,
			Title: fmt.Sprintf("Layer %d has %s whose mtime is not fixed", l, plural(a.n, "file", "files")),
			Evidence: []string{
				fmt.Sprintf("%s has mtime %s", a.first.path, time.Unix(a.first.mtime, int64(a.first.nsec)).UTC().Format(time.RFC3339Nano)),
				fmt.Sprintf("%s, %s, neither the epoch nor SOURCE_DATE_EPOCH", plural(a.n, "file", "files"), plural(len(a.times), "distinct mtime", "distinct mtimes")),
			},
			Fix: "dockerTools gives every file it packs mtime 1; files made in `extraCommands`, `fakeRootCommands` or " +
				"`runAsRoot`, or taken from a fromImage base, keep the time they were made. Fix them there " +
				"(`find . -exec touch -h -d @1 {} +`), or build the base from Nix.",
			Location: fileLocation(a.first),
		})
	}
	return fs
}

// checkOwners reports files outside the store owned by ids the image does
// not declare: they are the build user's, which differs between builders
// (nixbld1, nixbld2, … or the sandbox's uid 1000).
func checkOwners(m *model) []Finding {
	users := declared(m, "/etc/passwd")
	groups := declared(m, "/etc/group")
	type agg struct {
		n     int
		first *entry
	}
	by := map[[2]int]*agg{}
	// Filtered before sorting: most files of a large image are in the
	// store, and sorting every path costs a slice as long as the image.
	var owned []string
	for p, e := range m.final {
		if storepath.Of(p) == "" && p != "/" && (e.uid != 0 || e.gid != 0) {
			owned = append(owned, p)
		}
	}
	slices.Sort(owned)
	for _, p := range owned {
		e := m.final[p]
		if users[itoa(int(e.uid))] && groups[itoa(int(e.gid))] {
			continue
		}
		k := [2]int{int(e.uid), int(e.gid)}
		if by[k] == nil {
			by[k] = &agg{first: e}
		}
		by[k].n++
	}
	var fs []Finding
	for k, a := range by {
		fs = append(fs, Finding{
			ID: "hazard-owner", Severity: SeverityWarning,
			Title: fmt.Sprintf("%s outside the store owned by %d:%d, which the image does not declare", plural(a.n, "file", "files"), k[0], k[1]),
			Evidence: []string{
				fmt.Sprintf("%s is owned by %d:%d", a.first.path, k[0], k[1]),
				"ids that /etc/passwd and /etc/group do not list come from the build user, which differs between builders",
			},
			Fix: "Set ownership explicitly: in `fakeRootCommands` (with `enableFakechroot = true` where needed) run " +
				"`chown -R 1000:1000 ./var/lib/app` and declare the user in /etc/passwd (dockerTools.fakeNss " +
				"extraPasswdLines), or leave the files owned by root (0:0), as dockerTools packs them by default.",
			Location: fileLocation(a.first),
		})
	}
	return fs
}

// declared returns the names and ids a passwd or group file lists.
func declared(m *model, file string) map[string]bool {
	out := map[string]bool{"0": true}
	ids, _ := readIDs(m, file)
	for _, id := range ids {
		out[id[1]] = true
	}
	return out
}

var fromLine = regexp.MustCompile(`(?i)\bFROM\s+(?:--platform=\S+\s+)?(\S+)`)

// checkBase reports a base image named by tag rather than digest, in the
// OCI base-image labels or in history.
func checkBase(m *model) []Finding {
	var labels map[string]string
	_ = json.Unmarshal(configField(m, "Labels"), &labels)
	var fs []Finding
	if name, ok := labels["org.opencontainers.image.base.name"]; ok && !strings.Contains(name, "@sha256:") &&
		labels["org.opencontainers.image.base.digest"] == "" {
		fs = append(fs, unpinned(`config.Labels["org.opencontainers.image.base.name"]`,
			fmt.Sprintf("the base image label names %s, a tag, and no org.opencontainers.image.base.digest label pins it", name)))
	}
	var hist []struct {
		CreatedBy string `json:"created_by"`
		Comment   string `json:"comment"`
	}
	_ = json.Unmarshal(m.config["history"], &hist)
	for i, h := range hist {
		for _, s := range []string{h.CreatedBy, h.Comment} {
			if mt := fromLine.FindStringSubmatch(s); mt != nil && !strings.Contains(mt[1], "@sha256:") && mt[1] != "scratch" {
				fs = append(fs, unpinned(fmt.Sprintf("history[%d]", i),
					fmt.Sprintf("history[%d] says the base was %s, a tag", i, mt[1])))
				break
			}
		}
	}
	return fs
}

func unpinned(key, why string) Finding {
	return Finding{
		ID: "hazard-unpinned-base", Severity: SeverityWarning,
		Title:    "The base image is named by tag, not pinned by digest",
		Evidence: []string{why, "a tag moves: two builds a week apart get different bases"},
		Fix: "Pin fromImage by digest: `fromImage = dockerTools.pullImage { imageName = \"alpine\"; imageDigest = \"sha256:…\"; " +
			"sha256 = \"…\"; finalImageTag = \"3.19\"; };` (nix-prefetch-docker prints these), and label it with " +
			"org.opencontainers.image.base.digest.",
		Location: Location{ConfigKey: key},
	}
}

func sortedInts[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
