package verify

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/nixdock/nixdock-action/image"
)

// pendingStore holds the entries of one side that wait for their match on
// the other side (layers listed in different orders). The entries live in
// an unlinked temporary file; memory keeps only an index from a hash of the
// name (seeded per process, so an image cannot aim at collisions) to the
// record's offset, about 40 bytes per waiting entry however long its name,
// PAX records or head. Names whose hash collides with another waiting name
// are indexed by name.
type pendingStore struct {
	f     *os.File
	w     *bufio.Writer
	dirty bool // w holds bytes not yet in f
	off   int64
	idx   map[uint64]int64
	coll  map[string]int64
	seed  maphash.Seed
	buf   []byte
	rbuf  []byte
	// hash is the name's hash (a test makes every name collide).
	hash func(string) uint64
}

func newPendingStore() *pendingStore {
	p := &pendingStore{idx: map[uint64]int64{}, coll: map[string]int64{}, seed: maphash.MakeSeed()}
	p.hash = func(s string) uint64 { return maphash.String(p.seed, s) }
	return p
}

func (p *pendingStore) len() int { return len(p.idx) + len(p.coll) }

// close removes the file (already unlinked: closing frees it).
func (p *pendingStore) close() {
	if p != nil && p.f != nil {
		p.f.Close()
		p.f = nil
	}
}

// take removes and returns the waiting entry named name, if any.
func (p *pendingStore) take(name string) (*entry, error) {
	if off, ok := p.coll[name]; ok {
		delete(p.coll, name)
		return p.read(off)
	}
	h := p.hash(name)
	off, ok := p.idx[h]
	if !ok {
		return nil, nil
	}
	e, err := p.read(off)
	if err != nil || e.name != name {
		return nil, err
	}
	delete(p.idx, h)
	return e, nil
}

// put adds e, returning the entry of the same name it replaces (a name
// listed twice in one layer: the later entry wins, as when unpacking).
func (p *pendingStore) put(e *entry) (*entry, error) {
	prev, err := p.take(e.name)
	if err != nil {
		return nil, err
	}
	off, err := p.write(e)
	if err != nil {
		return nil, err
	}
	h := p.hash(e.name)
	if _, taken := p.idx[h]; taken {
		p.coll[e.name] = off
	} else {
		p.idx[h] = off
	}
	return prev, nil
}

// leftover is an entry left in a store: its name and where it is.
type leftover struct {
	name string
	off  int64
}

// leftovers lists the entries still waiting, sorted by name, and empties
// the index; the entries stay readable (get) until close.
func (p *pendingStore) leftovers() ([]leftover, error) {
	ls := make([]leftover, 0, p.len())
	for _, off := range p.idx {
		e, err := p.read(off)
		if err != nil {
			return nil, err
		}
		ls = append(ls, leftover{e.name, off})
	}
	for name, off := range p.coll {
		ls = append(ls, leftover{name, off})
	}
	clear(p.idx)
	clear(p.coll)
	sort.Slice(ls, func(i, j int) bool { return ls[i].name < ls[j].name })
	return ls, nil
}

// leftoverMerge walks the unmatched entries of every layer pair, A's and
// B's, in name order (each pair's list is sorted by leftovers).
type leftoverMerge struct {
	lists [2][][]leftover // by side, then pair
	pos   [2][]int
}

func newLeftoverMerge(results []*tarDiff) *leftoverMerge {
	m := &leftoverMerge{}
	for _, td := range results {
		m.lists[0] = append(m.lists[0], td.onlyA)
		m.lists[1] = append(m.lists[1], td.onlyB)
	}
	m.pos[0], m.pos[1] = make([]int, len(results)), make([]int, len(results))
	return m
}

// next returns the smallest name not yet returned: the pair whose A entry
// has it and the entry's offset, and the same for B (-1 for a side without
// it; both -1 at the end). A name in several pairs of one side is the last
// pair's entry; the others are passed over.
func (m *leftoverMerge) next() (ka int, offA int64, kb int, offB int64) {
	var name string
	found := false
	for s := range m.lists {
		for k, l := range m.lists[s] {
			if i := m.pos[s][k]; i < len(l) && (!found || l[i].name < name) {
				name, found = l[i].name, true
			}
		}
	}
	ks, offs := [2]int{-1, -1}, [2]int64{}
	if !found {
		return -1, 0, -1, 0
	}
	for s := range m.lists {
		for k, l := range m.lists[s] {
			if i := m.pos[s][k]; i < len(l) && l[i].name == name {
				ks[s], offs[s] = k, l[i].off
				m.pos[s][k]++
			}
		}
	}
	return ks[0], offs[0], ks[1], offs[1]
}

// get reads back the entry at off (from leftovers).
func (p *pendingStore) get(off int64) (*entry, error) { return p.read(off) }

func (p *pendingStore) write(e *entry) (int64, error) {
	if p.f == nil {
		f, err := os.CreateTemp("", "nixdock-diff-*")
		if err != nil {
			return 0, fmt.Errorf("keeping entries listed out of step: %w", err)
		}
		os.Remove(f.Name()) // unlinked: nothing left behind, even after a kill
		p.f, p.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	p.buf = encodeEntry(p.buf[:0], e)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(p.buf)))
	off := p.off
	if _, err := p.w.Write(n[:]); err != nil {
		return 0, p.diskErr(err)
	}
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, p.diskErr(err)
	}
	p.off += int64(len(n) + len(p.buf))
	p.dirty = true
	return off, nil
}

func (p *pendingStore) read(off int64) (*entry, error) {
	if p.dirty {
		if err := p.w.Flush(); err != nil {
			return nil, p.diskErr(err)
		}
		p.dirty = false
	}
	var n [4]byte
	if _, err := p.f.ReadAt(n[:], off); err != nil {
		return nil, fmt.Errorf("keeping entries listed out of step: %w", err)
	}
	// decodeEntry copies what it keeps, so one buffer serves every read.
	p.rbuf = slices.Grow(p.rbuf[:0], int(binary.LittleEndian.Uint32(n[:])))
	rec := p.rbuf[:binary.LittleEndian.Uint32(n[:])]
	if _, err := p.f.ReadAt(rec, off+4); err != nil {
		return nil, fmt.Errorf("keeping entries listed out of step: %w", err)
	}
	return decodeEntry(rec)
}

func (p *pendingStore) diskErr(err error) error {
	return fmt.Errorf("keeping entries listed out of step: %w", image.DiskFull(os.TempDir(), err))
}

// encodeEntry appends e's fields; decodeEntry reads them back.
func encodeEntry(b []byte, e *entry) []byte {
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	str(e.name)
	b = binary.AppendVarint(b, int64(e.index))
	b = append(b, e.typeflag)
	b = binary.AppendVarint(b, e.mode)
	b = binary.AppendVarint(b, int64(e.uid))
	b = binary.AppendVarint(b, int64(e.gid))
	str(e.uname)
	str(e.gname)
	b = binary.AppendVarint(b, e.mtime.Unix())
	b = binary.AppendUvarint(b, uint64(e.mtime.Nanosecond()))
	b = binary.AppendVarint(b, e.size)
	str(e.linkname)
	keys := make([]string, 0, len(e.pax))
	for k := range e.pax {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		str(k)
		str(e.pax[k])
	}
	b = append(b, e.sum[:]...)
	var flags byte
	if e.head != nil {
		flags |= 1
	}
	if e.whole {
		flags |= 2
	}
	if e.skip {
		flags |= 4
	}
	b = append(b, flags)
	str(string(e.head))
	return b
}

var errBadRecord = errors.New("corrupt record in the out-of-step entries file")

func decodeEntry(b []byte) (*entry, error) {
	bad := false
	varint := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	bytesN := func(n uint64) []byte {
		if bad || n > uint64(len(b)) {
			bad = true
			return nil
		}
		s := b[:n]
		b = b[n:]
		return s
	}
	str := func() string { return string(bytesN(uvarint())) }
	e := &entry{}
	e.name = str()
	e.index = int(varint())
	if t := bytesN(1); len(t) == 1 {
		e.typeflag = t[0]
	}
	e.mode = varint()
	e.uid = int(varint())
	e.gid = int(varint())
	e.uname = str()
	e.gname = str()
	sec := varint()
	e.mtime = time.Unix(sec, int64(uvarint())).UTC()
	e.size = varint()
	e.linkname = str()
	if n := uvarint(); n > 0 && !bad {
		e.pax = make(map[string]string, min(n, 64))
		for i := uint64(0); i < n && !bad; i++ {
			k := str()
			e.pax[k] = str()
		}
	}
	copy(e.sum[:], bytesN(32))
	var flags byte
	if f := bytesN(1); len(f) == 1 {
		flags = f[0]
	}
	head := bytesN(uvarint())
	if bad {
		return nil, errBadRecord
	}
	if flags&1 != 0 {
		e.head = append([]byte{}, head...)
	}
	e.whole, e.skip = flags&2 != 0, flags&4 != 0
	return e, nil
}
