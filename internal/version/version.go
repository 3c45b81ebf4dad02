package version

import (
	"runtime"
	"runtime/debug"
)

// Set by -ldflags "-X github.com/nixdock/nixdock-action/internal/version.Version=v1.2.3".
var (
	Version = ""
	Commit  = ""
)

// Info is what `nixdock version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
}

// Get returns the version information of this binary.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String is the short form stored in records: "v1.2.3" or "devel+abc1234".
func (i Info) String() string {
	if i.Version == "devel" && i.Commit != "unknown" && len(i.Commit) >= 7 {
		return "devel+" + i.Commit[:7]
	}
	return i.Version
}
