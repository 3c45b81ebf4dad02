package sbom

import "github.com/nixdock/nixdock-action/internal/storepath"

// refScanner finds store path hashes in a byte stream the way Nix finds
// references (RefScanSink): every window of 32 Nix base-32 characters is a
// candidate, found with Nix's skipping search, across write boundaries.
//
// Nix knows the candidate hashes before it scans (the build's inputs); an
// image's store paths are only known once every layer has been read, so the
// scanner keeps every distinct candidate and the caller intersects them
// with the store paths found. To keep memory bounded on pathological input
// (long runs of base-32 characters that are not hashes), past maxCandidates
// distinct windows a candidate also has to be followed by '-', as every
// store path in a file is ("<hash>-<name>"), and the scanner says so.
type refScanner struct {
	seen      map[[hashLen]byte]struct{}
	tail      []byte
	limit     int
	saturated bool
}

// maxCandidates bounds the distinct candidates kept per store path
// (32 bytes each plus map overhead: about 5 MiB).
const maxCandidates = 1 << 16

func newRefScanner() *refScanner {
	return &refScanner{seen: map[[hashLen]byte]struct{}{}, limit: maxCandidates}
}

func (r *refScanner) Write(p []byte) (int, error) {
	// Windows that straddle the previous write and this one.
	if len(r.tail) > 0 {
		head := p
		if len(head) > hashLen {
			head = head[:hashLen]
		}
		joined := append(append(make([]byte, 0, len(r.tail)+len(head)), r.tail...), head...)
		r.search(joined, len(r.tail))
	}
	r.search(p, 0)
	keep := hashLen - 1
	if len(p) >= keep {
		r.tail = append(r.tail[:0], p[len(p)-keep:]...)
	} else {
		r.tail = append(r.tail, p...)
		if len(r.tail) > keep {
			r.tail = r.tail[len(r.tail)-keep:]
		}
	}
	return len(p), nil
}

// search records candidates in s; minEnd > 0 skips windows that lie wholly
// within the first minEnd bytes (already searched as the previous tail).
func (r *refScanner) search(s []byte, minEnd int) {
	for i := 0; i+hashLen <= len(s); {
		j := hashLen - 1
		for ; j >= 0; j-- {
			if !storepath.IsHashChar(s[i+j]) {
				break
			}
		}
		if j >= 0 {
			i += j + 1
			continue
		}
		if i+hashLen > minEnd {
			r.add(s, i)
		}
		i++
	}
}

func (r *refScanner) add(s []byte, i int) {
	var k [hashLen]byte
	copy(k[:], s[i:i+hashLen])
	if _, ok := r.seen[k]; ok {
		return
	}
	if len(r.seen) >= r.limit {
		r.saturated = true
		if i+hashLen < len(s) && s[i+hashLen] != '-' {
			return
		}
	}
	r.seen[k] = struct{}{}
}

// found reports whether hash (32 characters) occurred in the stream.
func (r *refScanner) found(hash string) bool {
	var k [hashLen]byte
	copy(k[:], hash)
	_, ok := r.seen[k]
	return ok
}
