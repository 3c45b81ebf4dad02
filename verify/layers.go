package verify

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nixdock/nixdock-action/image"
)

// The sample sizes bound what the tar differ keeps of differing files: the
// whole file up to headCap, else the first headCap bytes plus a window
// around the first differing byte. budget bounds the samples kept by one diff,
// all layer pairs together (pending entries included), so memory stays flat
// however many files differ.
const (
	defaultHeadCap = 64 << 10
	defaultBudget  = 16 << 20
	chunkSize      = 32 << 10
	windowBefore   = 256
)

// tarOptions tune the tar differ.
type tarOptions struct {
	// HeadCap is how much of a file's start is kept for cause inference.
	HeadCap int
	// Budget bounds the sample bytes kept (diffTars without a shared
	// budget).
	Budget int
}

func (o tarOptions) withDefaults() tarOptions {
	if o.HeadCap <= 0 {
		o.HeadCap = defaultHeadCap
	}
	if o.Budget <= 0 {
		o.Budget = defaultBudget
	}
	return o
}

// entry is what the differ keeps of one tar entry: metadata, the content
// digest and, within the budget, a sample of the content.
type entry struct {
	name     string
	index    int
	typeflag byte
	mode     int64
	uid, gid int
	uname    string
	gname    string
	mtime    time.Time
	size     int64
	linkname string
	pax      map[string]string
	sum      [32]byte
	head     []byte // the first HeadCap bytes, when kept
	whole    bool   // head is the whole content
	// skip marks a huge sparse file, whose holes are not read (see
	// maxSparse; the walker reads it as empty); its sum stands for its
	// size only.
	skip bool
}

// maxSparse is the largest logical size of a sparse file whose content is
// read: image.DefaultMaxSparse (the fuzz test lowers it).
var maxSparse = image.DefaultMaxSparse

// fixSum makes a skipped entry's sum stand for its size.
func fixSum(e *entry) {
	if e.skip {
		e.sum = sha256.Sum256([]byte("sparse " + strconv.FormatInt(e.size, 10)))
	}
}

// fileDiff is everything that differs about one path, with content samples
// for cause inference.
type fileDiff struct {
	Path   string
	Layer  int // index in A, -1 when only in B
	LayerB int // index in B, -1 when only in A
	Fields []Difference
	// SampleA and SampleB are content bytes from Offset on (the whole files
	// when Whole).
	SampleA, SampleB []byte
	Offset           int64
	Whole            bool
}

// tarDiff is the outcome of walking one layer pair.
type tarDiff struct {
	files   []fileDiff
	omitted omittedSet // differing files past the pair's quota
	// onlyA and onlyB are the entries left unmatched, sorted by name, for
	// matching across layer pairs: names in memory, entries in storeA and
	// storeB (see close).
	onlyA, onlyB   []leftover
	storeA, storeB *pendingStore
}

// close frees the stores of the unmatched entries.
func (td *tarDiff) close() {
	if td != nil {
		td.storeA.close()
		td.storeB.close()
	}
}

// tarDiffer walks two tar streams together.
type tarDiffer struct {
	opts       tarOptions
	budget     *budget
	bufA, bufB []byte
	headA      []byte
	headB      []byte
	tailA      []byte
	tailB      []byte
}

// diffTars compares two tar streams entry by entry. Both are read once, in
// step when their entries come in the same order (the usual case for sorted
// Nix layers); entries out of step wait, digested, in a pendingStore on
// disk.
func diffTars(ra, rb io.Reader, opts tarOptions, b *budget) (*tarDiff, error) {
	opts = opts.withDefaults()
	if b == nil {
		b = newBudget(opts.Budget)
	}
	d := &tarDiffer{opts: opts, budget: b,
		bufA: make([]byte, chunkSize), bufB: make([]byte, chunkSize),
		headA: make([]byte, 0, opts.HeadCap), headB: make([]byte, 0, opts.HeadCap)}
	ta, tb := newSide(ra), newSide(rb)
	pendA, pendB := newPendingStore(), newPendingStore()
	out := &tarDiff{storeA: pendA, storeB: pendB}
	ok := false
	defer func() {
		if !ok {
			out.close()
		}
	}()
	if err := ta.next(); err != nil {
		return nil, fmt.Errorf("image A: %w", err)
	}
	if err := tb.next(); err != nil {
		return nil, fmt.Errorf("image B: %w", err)
	}
	for ta.hdr != nil || tb.hdr != nil {
		var err error
		switch {
		case ta.hdr != nil && tb.hdr != nil && ta.name == tb.name:
			err = d.compareLive(ta, tb, out)
		case tb.hdr == nil || (ta.hdr != nil && ta.name < tb.name):
			err = d.stepAlone(ta, pendA, pendB, out, false)
		default:
			err = d.stepAlone(tb, pendB, pendA, out, true)
		}
		if err != nil {
			return nil, err
		}
	}
	var err error
	if out.onlyA, err = pendA.leftovers(); err != nil {
		return nil, err
	}
	if out.onlyB, err = pendB.leftovers(); err != nil {
		return nil, err
	}
	ok = true
	return out, nil
}

// side is one tar stream and its current entry.
type side struct {
	w     *image.TarWalker
	hdr   *tar.Header // nil at the end
	e     *image.TarEntry
	name  string
	index int
}

func newSide(r io.Reader) *side {
	return &side{w: image.NewTarWalker(r, image.TarWalkOptions{MaxSparse: maxSparse}), index: -1}
}

// next advances to the next entry; at the end the walker has read the
// stream to its end, so that a verifying reader checks the layer's digest.
func (s *side) next() error {
	e, err := s.w.Next()
	if err == io.EOF {
		s.hdr, s.e = nil, nil
		return nil
	}
	if err != nil {
		return err
	}
	s.e, s.hdr, s.index, s.name = e, e.Header, s.w.Index(), e.Path
	return nil
}

// stepAlone consumes the current entry of s, which the other side has not
// reached: it matches an entry waiting in other, or waits in mine.
func (d *tarDiffer) stepAlone(s *side, mine, other *pendingStore, out *tarDiff, isB bool) error {
	e, err := d.readEntry(s)
	if err != nil {
		return err
	}
	o, err := other.take(e.name)
	if err != nil {
		return err
	}
	if o != nil {
		a, b := o, e
		if !isB {
			a, b = e, o
		}
		if fd := d.compareEntries(a, b); fd != nil {
			d.emit(out, fd)
		}
		d.release(o)
		d.release(e)
	} else {
		prev, err := mine.put(e)
		if err != nil {
			return err
		}
		if prev != nil {
			d.release(prev)
		}
	}
	return s.next()
}

func (d *tarDiffer) release(e *entry) {
	d.budget.give(len(e.head))
	e.head = nil
}

// readEntry digests the current entry's content, keeping its head within
// the budget.
func (d *tarDiffer) readEntry(s *side) (*entry, error) {
	e := newEntry(s)
	h := sha256.New()
	keep := !e.skip && e.size <= int64(d.opts.HeadCap) && d.budget.take(int(e.size))
	var head bytes.Buffer
	w := io.Writer(h)
	if keep {
		w = io.MultiWriter(h, &head)
	}
	if _, err := io.CopyBuffer(w, s.w, d.bufA); err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.name, err)
	}
	copy(e.sum[:], h.Sum(nil))
	fixSum(e)
	if keep {
		e.head, e.whole = head.Bytes(), true
		if len(e.head) != int(e.size) { // a short read would have failed above
			d.budget.give(int(e.size) - len(e.head))
		}
	}
	return e, nil
}

func newEntry(s *side) *entry {
	h := s.hdr
	tf := h.Typeflag // archive/tar reports old-style TypeRegA entries as TypeReg
	return &entry{
		name: s.name, index: s.index, typeflag: tf, mode: h.Mode & 0o7777,
		uid: h.Uid, gid: h.Gid, uname: h.Uname, gname: h.Gname,
		mtime: h.ModTime.UTC(), size: h.Size, linkname: h.Linkname, pax: paxOf(h),
		skip: s.e.SparseTooLarge,
	}
}

// paxOf keeps the PAX records that the header fields do not already show.
func paxOf(h *tar.Header) map[string]string {
	var m map[string]string
	for k, v := range h.PAXRecords {
		switch k {
		case "path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime":
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m
}

// budget bounds the sample bytes kept across all layer pairs of a diff.
type budget struct {
	mu   sync.Mutex
	left int
}

func newBudget(n int) *budget { return &budget{left: n} }

func (b *budget) take(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

func (b *budget) give(n int) {
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
}

// compareLive compares the current entries of both sides, which have the
// same name, streaming both contents at once.
func (d *tarDiffer) compareLive(ta, tb *side, out *tarDiff) error {
	a, b := newEntry(ta), newEntry(tb)
	s, err := d.streamBoth(ta.w, tb.w, a, b)
	if err != nil {
		return fmt.Errorf("reading %s: %w", a.name, err)
	}
	if fields := metaDiffs(a, b); len(fields) > 0 {
		fd := fileDiff{Path: a.name, Fields: fields}
		if s != nil {
			fd.SampleA, fd.SampleB, fd.Offset, fd.Whole = s.a, s.b, s.offset, s.whole
		}
		d.emit(out, &fd)
	} else if s != nil {
		d.budget.give(len(s.a) + len(s.b))
	}
	if err := ta.next(); err != nil {
		return fmt.Errorf("image A: %w", err)
	}
	if err := tb.next(); err != nil {
		return fmt.Errorf("image B: %w", err)
	}
	return nil
}

// sample is what the differ kept of two differing contents.
type sample struct {
	a, b   []byte
	offset int64
	whole  bool
}

// streamBoth reads both contents in step, digesting them, and returns
// samples when they differ: the whole files when small, else the heads or a
// window around the first differing byte.
func (d *tarDiffer) streamBoth(ra, rb io.Reader, a, b *entry) (*sample, error) {
	hA, hB := sha256.New(), sha256.New()
	headA, headB := d.headA[:0], d.headB[:0]
	var win *sample
	var off int64
	diffAt := int64(-1)
	doneA, doneB := false, false
	for !doneA || !doneB {
		na, err := readChunk(ra, d.bufA, &doneA)
		if err != nil {
			return nil, err
		}
		nb, err := readChunk(rb, d.bufB, &doneB)
		if err != nil {
			return nil, err
		}
		ca, cb := d.bufA[:na], d.bufB[:nb]
		hA.Write(ca)
		hB.Write(cb)
		headA = appendCapped(headA, ca, d.opts.HeadCap)
		headB = appendCapped(headB, cb, d.opts.HeadCap)
		if diffAt < 0 {
			if i := firstDiff(ca, cb); i >= 0 {
				diffAt = off + int64(i)
				if diffAt >= int64(d.opts.HeadCap) {
					win = &sample{a: concat(d.tailA, ca), b: concat(d.tailB, cb), offset: off - int64(len(d.tailA))}
				}
			}
		}
		d.tailA = keepTail(d.tailA, ca)
		d.tailB = keepTail(d.tailB, cb)
		off += int64(max(na, nb))
	}
	d.tailA, d.tailB = d.tailA[:0], d.tailB[:0]
	copy(a.sum[:], hA.Sum(nil))
	copy(b.sum[:], hB.Sum(nil))
	fixSum(a)
	fixSum(b)
	if a.sum == b.sum {
		return nil, nil
	}
	s := win
	if s == nil {
		s = &sample{a: bytes.Clone(headA), b: bytes.Clone(headB),
			whole: a.size <= int64(d.opts.HeadCap) && b.size <= int64(d.opts.HeadCap)}
	}
	if !d.budget.take(len(s.a) + len(s.b)) {
		return nil, nil
	}
	return s, nil
}

// readChunk fills buf as far as the content goes, marking the end.
func readChunk(r io.Reader, buf []byte, done *bool) (int, error) {
	if *done {
		return 0, nil
	}
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		*done = true
		return n, nil
	case err != nil:
		return n, err
	}
	return n, nil
}

func appendCapped(dst, src []byte, limit int) []byte {
	if room := limit - len(dst); room > 0 {
		dst = append(dst, src[:min(room, len(src))]...)
	}
	return dst
}

func keepTail(tail, chunk []byte) []byte {
	if len(chunk) >= windowBefore {
		return append(tail[:0], chunk[len(chunk)-windowBefore:]...)
	}
	tail = append(tail, chunk...)
	if len(tail) > windowBefore {
		tail = append(tail[:0], tail[len(tail)-windowBefore:]...)
	}
	return tail
}

func concat(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// firstDiff is the index of the first differing byte, len(shorter) when one
// is a prefix of the other, or -1 when equal.
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i += 64 {
		j := min(i+64, n)
		if bytes.Equal(a[i:j], b[i:j]) {
			continue
		}
		for k := i; k < j; k++ {
			if a[k] != b[k] {
				return k
			}
		}
	}
	if len(a) != len(b) {
		return n
	}
	return -1
}

// compareEntries compares two digested entries matched out of step. The
// samples of a differing content take over the entries' heads.
func (d *tarDiffer) compareEntries(a, b *entry) *fileDiff {
	fields := metaDiffs(a, b)
	if a.index != b.index {
		fields = append(fields, Difference{Kind: "entry", Path: a.name, Field: "position",
			A: strconv.Itoa(a.index), B: strconv.Itoa(b.index)})
	}
	if len(fields) == 0 {
		return nil
	}
	fd := &fileDiff{Path: a.name, Fields: fields}
	if a.sum != b.sum && a.head != nil && b.head != nil {
		// The heads move into the samples: the budget already counts them.
		fd.SampleA, fd.SampleB, fd.Whole = a.head, b.head, true
		a.head, b.head = nil, nil
	}
	return fd
}

// metaDiffs lists the header and content fields in which a and b differ.
func metaDiffs(a, b *entry) []Difference {
	var out []Difference
	add := func(field, va, vb string) {
		if va != vb {
			out = append(out, Difference{Kind: "entry", Path: a.name, Field: field, A: va, B: vb})
		}
	}
	add("type", typeName(a.typeflag), typeName(b.typeflag))
	add("mode", fmt.Sprintf("%04o", a.mode), fmt.Sprintf("%04o", b.mode))
	add("uid", strconv.Itoa(a.uid), strconv.Itoa(b.uid))
	add("gid", strconv.Itoa(a.gid), strconv.Itoa(b.gid))
	add("uname", a.uname, b.uname)
	add("gname", a.gname, b.gname)
	add("mtime", a.mtime.Format(time.RFC3339Nano), b.mtime.Format(time.RFC3339Nano))
	add("linkname", a.linkname, b.linkname)
	for _, k := range unionKeys(a.pax, b.pax) {
		name := "pax." + k
		if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			name = "xattr." + x
		}
		add(name, a.pax[k], b.pax[k])
	}
	if a.typeflag == tar.TypeReg && b.typeflag == tar.TypeReg {
		add("size", strconv.FormatInt(a.size, 10), strconv.FormatInt(b.size, 10))
		add("content", "sha256:"+hex.EncodeToString(a.sum[:]), "sha256:"+hex.EncodeToString(b.sum[:]))
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func typeName(t byte) string {
	switch t {
	case tar.TypeReg:
		return "file"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeChar:
		return "char"
	case tar.TypeBlock:
		return "block"
	case tar.TypeDir:
		return "dir"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("type-%q", t)
}
