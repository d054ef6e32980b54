//go:build darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package rawsys

import (
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestKeventMatchesXSys checks this target's Kevent_t against x/sys's
// Kevent_t (size and every offset) and the constants x/sys has. It is
// built by make test's cross builds and runs on a real Mac or BSD.
func TestKeventMatchesXSys(t *testing.T) {
	var ours Kevent_t
	var theirs unix.Kevent_t
	if unsafe.Sizeof(ours) != unsafe.Sizeof(theirs) {
		t.Fatalf("sizeof Kevent_t %d, x/sys %d", unsafe.Sizeof(ours), unsafe.Sizeof(theirs))
	}
	offs := [][2]uintptr{
		{unsafe.Offsetof(ours.ident), unsafe.Offsetof(theirs.Ident)},
		{unsafe.Offsetof(ours.filter), unsafe.Offsetof(theirs.Filter)},
		{unsafe.Offsetof(ours.flags), unsafe.Offsetof(theirs.Flags)},
		{unsafe.Offsetof(ours.fflags), unsafe.Offsetof(theirs.Fflags)},
		{unsafe.Offsetof(ours.data), unsafe.Offsetof(theirs.Data)},
		{unsafe.Offsetof(ours.udata), unsafe.Offsetof(theirs.Udata)},
	}
	for i, o := range offs {
		if o[0] != o[1] {
			t.Errorf("field %d at offset %d, x/sys %d", i, o[0], o[1])
		}
	}
	for _, c := range []struct {
		name       string
		ours, xsys int64
	}{
		{"EVFILT_READ", int64(Kq.EVFILT_READ), int64(unix.EVFILT_READ)},
		{"EVFILT_WRITE", int64(Kq.EVFILT_WRITE), int64(unix.EVFILT_WRITE)},
		{"EV_ADD", int64(Kq.EV_ADD), int64(unix.EV_ADD)},
		{"EV_DELETE", int64(Kq.EV_DELETE), int64(unix.EV_DELETE)},
		{"EV_CLEAR", int64(Kq.EV_CLEAR), int64(unix.EV_CLEAR)},
		{"EV_EOF", int64(Kq.EV_EOF), int64(unix.EV_EOF)},
		{"EV_ERROR", int64(Kq.EV_ERROR), int64(unix.EV_ERROR)},
	} {
		if c.ours != c.xsys {
			t.Errorf("%s = %d, x/sys %d", c.name, c.ours, c.xsys)
		}
	}
	t.Logf("%s/%s: struct kevent is %d bytes", runtime.GOOS, runtime.GOARCH, unsafe.Sizeof(ours))
}

// TestKeventRoundTrip registers an EVFILT_USER (or a pipe read end) with a
// 64-bit token, triggers it, and reads the token back, through both entry
// points.
func TestKeventRoundTrip(t *testing.T) {
	kq, errno := Kqueue()
	if errno != 0 {
		t.Fatal(errno)
	}
	defer unix.Close(kq)
	const token = 0xfedcba9876543210
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	var ch [1]Kevent_t
	ch[0].Set(uint64(p[0]), Kq.EVFILT_READ, Kq.EV_ADD|Kq.EV_CLEAR|Kq.EV_RECEIPT, 0, 0, token)
	var zero Timespec
	if n, errno := KeventRaw(kq, &ch[0], 1, &ch[0], 1, &zero); errno != 0 || n != 1 || ch[0].Flags()&Kq.EV_ERROR == 0 || ch[0].Data() != 0 {
		t.Fatalf("register: n=%d errno=%v flags=%#x data=%d", n, errno, ch[0].Flags(), ch[0].Data())
	}
	unix.Write(p[1], []byte("x"))
	var ev [4]Kevent_t
	ts := Timespec{Sec: 1}
	n, errno := Kevent(kq, nil, 0, &ev[0], len(ev), &ts)
	if errno != 0 || n != 1 || ev[0].Udata() != token || ev[0].Filter() != Kq.EVFILT_READ || ev[0].Data() != 1 {
		t.Fatalf("kevent: n=%d errno=%v udata=%#x filter=%d data=%d", n, errno, ev[0].Udata(), ev[0].Filter(), ev[0].Data())
	}
	if n, errno := KeventRaw(kq, nil, 0, &ev[0], len(ev), &zero); errno != 0 || n != 0 {
		t.Fatalf("EV_CLEAR: %d more events", n)
	}
}
