package selector

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/rawpoll/rawpoll/rawsys"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/kevent/*.bin from the documented layouts")

const goldenDir = "../testdata/kevent"

// goldenOS is one OS's documented layout and its header constants, written
// here as literals (testdata/kevent/README.md cites the headers), apart
// from rawsys's tables, so that a wrong constant there is caught.
type goldenOS struct {
	size, ident, filter, fw, flags, flw, fflags, data, udata int
	read, write                                              int32
	aio, lio, user                                           int32 // 0: the OS has none
	consts                                                   *rawsys.KqConsts
}

const (
	gAdd, gClear, gReceipt, gError, gEOF = 0x1, 0x20, 0x40, 0x4000, 0x8000
	gTrigger                             = 0x01000000
)

// goldenRecord is one kevent and the accessors mio's mapping gives it.
type goldenRecord struct {
	name                      string
	ident                     uint64
	filter                    string // read, write, user, aio, lio
	flags, fflags             uint32
	data                      int64
	udata                     uint64
	r, w, e, rc, wc, aio, lio bool
}

func goldenRecords(g goldenOS) []goldenRecord {
	recs := []goldenRecord{
		{name: "read ready", ident: 5, filter: "read", flags: gAdd | gClear, data: 17, udata: 0x1122334455667788, r: true},
		{name: "write ready", ident: 6, filter: "write", flags: gAdd | gClear, data: 65536, udata: 7, w: true},
		{name: "read EOF", ident: 7, filter: "read", flags: gAdd | gClear | gEOF, udata: 8, r: true, rc: true},
		{name: "read EOF ECONNRESET", ident: 7, filter: "read", flags: gAdd | gClear | gEOF, fflags: 54, udata: 8, r: true, rc: true, e: true},
		{name: "write EOF EPIPE", ident: 9, filter: "write", flags: gAdd | gClear | gEOF, fflags: 32, udata: 10, w: true, wc: true, e: true},
		{name: "receipt EBADF", ident: 11, filter: "read", flags: gAdd | gClear | gReceipt | gError, data: 9, udata: 12, r: true, e: true},
		{name: "fd 0 token 0", ident: 0, filter: "read", flags: gAdd | gClear, data: 1, udata: 0, r: true},
		{name: "max token", ident: 13, filter: "write", flags: gAdd | gClear, data: 1, udata: math.MaxUint64, w: true},
	}
	if g.user != 0 {
		recs = append(recs, goldenRecord{name: "waker EVFILT_USER", ident: 3, filter: "user", flags: gAdd | gClear, fflags: gTrigger, udata: 1 << 62, r: true})
	}
	if g.aio != 0 {
		recs = append(recs, goldenRecord{name: "aio completion", ident: 0x7fff5000, filter: "aio", flags: gClear, udata: 99, aio: true})
	}
	if g.lio != 0 {
		recs = append(recs, goldenRecord{name: "lio completion", ident: 0x7fff6000, filter: "lio", flags: gClear, udata: 100, lio: true})
	}
	return recs
}

func goldenOSes(t *testing.T) map[string]goldenOS {
	t.Helper()
	consts := map[string]goldenOS{
		"darwin":    {read: -1, write: -2, aio: -3, user: -10, consts: &rawsys.KqDarwin},
		"freebsd":   {read: -1, write: -2, aio: -3, lio: -10, user: -11, consts: &rawsys.KqFreeBSD},
		"netbsd":    {read: 0, write: 1, user: 8, consts: &rawsys.KqNetBSD},
		"openbsd":   {read: -1, write: -2, user: -10, consts: &rawsys.KqOpenBSD},
		"dragonfly": {read: -1, write: -2, aio: -3, user: -9, consts: &rawsys.KqDragonFly},
	}
	data, err := os.ReadFile(filepath.Join(goldenDir, "layouts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]goldenOS{}
	for _, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		n := func(s string) int {
			v, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("layouts.txt %q: %v", line, err)
			}
			return v
		}
		g := consts[fs[0]]
		fo, fw, _ := strings.Cut(fs[4], "/")
		lo, lw, _ := strings.Cut(fs[5], "/")
		g.size, g.ident, g.filter, g.fw, g.flags, g.flw = n(fs[2]), n(fs[3]), n(fo), n(fw), n(lo), n(lw)
		g.fflags, g.data, g.udata = n(fs[6]), n(fs[7]), n(fs[8])
		out[fs[0]+"_"+fs[1]] = g
	}
	if len(out) != 9 {
		t.Fatalf("layouts.txt: %d OS/arch rows, want 9", len(out))
	}
	return out
}

// encode writes rec field by field at the documented offsets.
func (g goldenOS) encode(rec goldenRecord) []byte {
	b := make([]byte, g.size)
	le := binary.LittleEndian
	filter := map[string]int32{"read": g.read, "write": g.write, "user": g.user, "aio": g.aio, "lio": g.lio}[rec.filter]
	le.PutUint64(b[g.ident:], rec.ident)
	if g.fw == 2 {
		le.PutUint16(b[g.filter:], uint16(int16(filter)))
	} else {
		le.PutUint32(b[g.filter:], uint32(filter))
	}
	if g.flw == 2 {
		le.PutUint16(b[g.flags:], uint16(rec.flags))
	} else {
		le.PutUint32(b[g.flags:], rec.flags)
	}
	le.PutUint32(b[g.fflags:], rec.fflags)
	le.PutUint64(b[g.data:], uint64(rec.data))
	le.PutUint64(b[g.udata:], rec.udata)
	return b
}

// view is what the kqueue backend reads from a record: the rawsys view
// methods for that OS's layout.
type view interface {
	Ident() uint64
	Filter() int32
	Flags() uint32
	Fflags() uint32
	Data() int64
	Udata() uint64
	Set(ident uint64, filter int32, flags, fflags uint32, data int64, udata uint64)
}

// views casts an 8-aligned copy of buf to the OS's record type.
func views(osname string, buf []byte, size int) []view {
	words := make([]uint64, (len(buf)+7)/8)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(buf)), buf)
	base := unsafe.Pointer(&words[0])
	var out []view
	for i := 0; i < len(buf)/size; i++ {
		p := unsafe.Add(base, i*size)
		switch osname {
		case "freebsd":
			out = append(out, (*rawsys.KeventFreeBSD)(p))
		case "netbsd":
			out = append(out, (*rawsys.KeventNetBSD)(p))
		default:
			out = append(out, (*rawsys.Kevent32)(p))
		}
	}
	return out
}

// TestKeventGolden decodes every golden buffer through the views and the
// accessor functions the kqueue backend uses, and checks every field and
// every accessor against the truth table; it also checks that Set writes
// exactly the documented bytes.
func TestKeventGolden(t *testing.T) {
	for key, g := range goldenOSes(t) {
		osname, _, _ := strings.Cut(key, "_")
		recs := goldenRecords(g)
		var want bytes.Buffer
		for _, r := range recs {
			want.Write(g.encode(r))
		}
		path := filepath.Join(goldenDir, key+".bin")
		if *updateGolden {
			if err := os.WriteFile(path, want.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		buf, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run with -update-golden to write it)", key, err)
		}
		if !bytes.Equal(buf, want.Bytes()) {
			t.Fatalf("%s: golden file differs from the documented encoding", key)
		}
		if len(buf) != len(recs)*g.size {
			t.Fatalf("%s: %d bytes for %d records of %d", key, len(buf), len(recs), g.size)
		}
		c := g.consts
		if c.OS != osname {
			t.Fatalf("%s: constants for %s", key, c.OS)
		}
		for i, v := range views(osname, buf, g.size) {
			r := recs[i]
			filter := map[string]int32{"read": g.read, "write": g.write, "user": g.user, "aio": g.aio, "lio": g.lio}[r.filter]
			if v.Ident() != r.ident || v.Filter() != filter || v.Flags() != r.flags || v.Fflags() != r.fflags || v.Data() != r.data || v.Udata() != r.udata {
				t.Errorf("%s %q: fields ident=%d filter=%d flags=%#x fflags=%#x data=%d udata=%#x", key, r.name, v.Ident(), v.Filter(), v.Flags(), v.Fflags(), v.Data(), v.Udata())
			}
			got := fmt.Sprint(kqIsReadable(c, v.Filter()), kqIsWritable(c, v.Filter()), kqIsError(c, v.Flags(), v.Fflags()),
				kqIsReadClosed(c, v.Filter(), v.Flags()), kqIsWriteClosed(c, v.Filter(), v.Flags()), kqIsAIO(c, v.Filter()), kqIsLIO(c, v.Filter()))
			exp := fmt.Sprint(r.r, r.w, r.e, r.rc, r.wc, r.aio, r.lio)
			if got != exp {
				t.Errorf("%s %q: readable writable error read_closed write_closed aio lio = %s, want %s (%s)", key, r.name, got, exp,
					kqDetails(c, v.Filter(), v.Flags(), v.Fflags(), v.Data()))
			}
			// Set must produce the documented bytes (padding and ext zero).
			v.Set(r.ident, filter, r.flags, r.fflags, r.data, r.udata)
			rec := unsafe.Slice((*byte)(reflectPointer(v)), g.size)
			if !bytes.Equal(rec, buf[i*g.size:(i+1)*g.size]) {
				t.Errorf("%s %q: Set wrote % x, documented % x", key, r.name, rec, buf[i*g.size:(i+1)*g.size])
			}
		}
		t.Logf("%s: %d records of %d bytes decoded", key, len(recs), g.size)
	}
}

func reflectPointer(v view) unsafe.Pointer {
	switch k := v.(type) {
	case *rawsys.KeventFreeBSD:
		return unsafe.Pointer(k)
	case *rawsys.KeventNetBSD:
		return unsafe.Pointer(k)
	case *rawsys.Kevent32:
		return unsafe.Pointer(k)
	}
	panic("unknown view")
}
