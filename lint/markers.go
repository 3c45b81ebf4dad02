package lint

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// markerSet is a set of indices into markers.
type markerSet uint64

// need is what a program needs at run time, as shown by its markers.
type need uint8

const (
	needTLS   need = 1 << iota // CA certificates
	needNet                    // /etc/services, /etc/protocols
	needNSS                    // /etc/nsswitch.conf
	needGlibc                  // glibc: a locale archive for UTF-8 locales
)

// markers are strings whose presence in a program shows what it needs:
// the names of shared libraries it links (DT_NEEDED), the C library calls
// it makes, and the files Go's standard library reads.
var markers = []struct {
	s    []byte
	need need
}{
	{[]byte("libssl.so"), needTLS},
	{[]byte("libgnutls.so"), needTLS},
	{[]byte("libcurl.so"), needTLS},
	{[]byte("libmbedtls.so"), needTLS},
	{[]byte("libwolfssl.so"), needTLS},
	{[]byte("crypto/tls"), needTLS},
	{[]byte("SSL_CTX_new"), needTLS},
	{[]byte("gnutls_global_init"), needTLS},
	{[]byte("getaddrinfo"), needNet | needNSS},
	{[]byte("gethostbyname"), needNet | needNSS},
	{[]byte("getservbyname"), needNet},
	{[]byte("getprotobyname"), needNet},
	{[]byte("/etc/services"), needNet},
	{[]byte("/etc/protocols"), needNet},
	{[]byte("getpwnam"), needNSS},
	{[]byte("getpwuid"), needNSS},
	{[]byte("getgrnam"), needNSS},
	{[]byte("/etc/nsswitch.conf"), needNSS},
	{[]byte("libc.so.6"), needGlibc},
	{[]byte("GLIBC_2."), needGlibc},
}

var maxMarkerLen = func() int {
	n := 0
	for _, m := range markers {
		n = max(n, len(m.s))
	}
	return n
}()

// needs returns what the markers in s show.
func (s markerSet) needs() need {
	var n need
	for i, m := range markers {
		if s&(1<<i) != 0 {
			n |= m.need
		}
	}
	return n
}

// names lists the markers in s that show n.
func (s markerSet) names(n need) []string {
	var out []string
	for i, m := range markers {
		if s&(1<<i) != 0 && m.need&n != 0 {
			out = append(out, string(m.s))
		}
	}
	return out
}

// window scans a stream for markers. It carries the last maxMarkerLen-1
// bytes of a chunk into the next, so a marker split between two reads is
// still found, while memory stays one chunk plus that tail.
type window struct {
	carry []byte
	tmp   []byte
	seen  markerSet
}

func (w *window) reset() {
	w.carry = w.carry[:0]
	w.seen = 0
}

func (w *window) scan(chunk []byte) markerSet {
	w.tmp = append(append(w.tmp[:0], w.carry...), chunk...)
	var found markerSet
	for i, m := range markers {
		bit := markerSet(1) << i
		if w.seen&bit == 0 && bytes.Contains(w.tmp, m.s) {
			w.seen |= bit
			found |= bit
		}
	}
	keep := min(maxMarkerLen-1, len(w.tmp))
	w.carry = append(w.carry[:0], w.tmp[len(w.tmp)-keep:]...)
	return found
}

var sharedObject = regexp.MustCompile(`\.so(\.[0-9.]+)?$`)

// isLibrary says whether p is a shared library. Libraries are not counted
// as programs with needs: glibc itself names getaddrinfo and
// /etc/services, whether or not any program in the image uses them.
func isLibrary(p string) bool {
	base := path.Base(p)
	return sharedObject.MatchString(base) || strings.HasPrefix(base, "ld-linux")
}
