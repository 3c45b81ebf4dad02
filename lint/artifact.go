package lint

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// ArtifactOptions are the options `nixdock lint` and the Action share:
// SARIF results point at file (the image's Nix file; see Artifact), and
// sde (seconds, "" for none; SOURCE_DATE_EPOCH) is the date besides the
// epoch that dates may have. With a bad sde, the options come back
// without it, and the error.
func ArtifactOptions(file, sde string) (Options, error) {
	uri, text := Artifact(file)
	opts := Options{ArtifactURI: uri, ArtifactText: text}
	if sde == "" {
		return opts, nil
	}
	sec, err := strconv.ParseInt(sde, 10, 64)
	if err != nil {
		return opts, fmt.Errorf("%q: want seconds since the epoch", sde)
	}
	opts.SourceDateEpoch = &sec
	return opts, nil
}

// Artifact is what SARIF results point at for the file given: its path
// relative to the repository it is in (the nearest directory above with
// .git, as code scanning resolves URIs against the repository root), and
// its text when it is a readable file of at most 1 MiB, so results can
// point at the line that names what they are about.
func Artifact(file string) (uri, text string) {
	if file == "" {
		return "", ""
	}
	uri = filepath.ToSlash(file)
	abs, err := filepath.Abs(file)
	if _, serr := os.Stat(file); err != nil || serr != nil {
		return uri, "" // a name only: kept as given
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				uri = filepath.ToSlash(rel)
			}
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	// Stat first: opening a FIFO would block.
	if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
		return uri, ""
	}
	f, err := os.Open(file)
	if err != nil {
		return uri, ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return uri, ""
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return uri, ""
	}
	return uri, string(data)
}
