package rawsys

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

type docLayout struct {
	os, arch                                                 string
	size, ident, filter, fw, flags, flw, fflags, data, udata uintptr
}

// readLayouts parses testdata/kevent/layouts.txt.
func readLayouts(t *testing.T) []docLayout {
	t.Helper()
	f, err := os.Open("../testdata/kevent/layouts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docLayout
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 9 {
			t.Fatalf("layouts.txt: %q", line)
		}
		num := func(s string) uintptr {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("layouts.txt: %q: %v", line, err)
			}
			return uintptr(n)
		}
		pair := func(s string) (uintptr, uintptr) {
			a, b, _ := strings.Cut(s, "/")
			return num(a), num(b)
		}
		l := docLayout{os: fs[0], arch: fs[1], size: num(fs[2]), ident: num(fs[3]), fflags: num(fs[6]), data: num(fs[7]), udata: num(fs[8])}
		l.filter, l.fw = pair(fs[4])
		l.flags, l.flw = pair(fs[5])
		out = append(out, l)
	}
	return out
}

// TestKeventViewsMatchDocumentedLayouts checks, on any OS, that the Go view
// of each OS's struct kevent has the documented size and offsets. The same
// numbers are checked against golang.org/x/sys on each target by
// kevent_target_test.go (built in make test's cross builds).
func TestKeventViewsMatchDocumentedLayouts(t *testing.T) {
	type view struct {
		size, ident, filter, fw, flags, flw, fflags, data, udata uintptr
	}
	var k32 Kevent32
	var kfb KeventFreeBSD
	var knb KeventNetBSD
	views := map[string]view{
		"darwin":  {unsafe.Sizeof(k32), unsafe.Offsetof(k32.ident), unsafe.Offsetof(k32.filter), unsafe.Sizeof(k32.filter), unsafe.Offsetof(k32.flags), unsafe.Sizeof(k32.flags), unsafe.Offsetof(k32.fflags), unsafe.Offsetof(k32.data), unsafe.Offsetof(k32.udata)},
		"freebsd": {unsafe.Sizeof(kfb), unsafe.Offsetof(kfb.ident), unsafe.Offsetof(kfb.filter), unsafe.Sizeof(kfb.filter), unsafe.Offsetof(kfb.flags), unsafe.Sizeof(kfb.flags), unsafe.Offsetof(kfb.fflags), unsafe.Offsetof(kfb.data), unsafe.Offsetof(kfb.udata)},
		"netbsd":  {unsafe.Sizeof(knb), unsafe.Offsetof(knb.ident), unsafe.Offsetof(knb.filter), unsafe.Sizeof(knb.filter), unsafe.Offsetof(knb.flags), unsafe.Sizeof(knb.flags), unsafe.Offsetof(knb.fflags), unsafe.Offsetof(knb.data), unsafe.Offsetof(knb.udata)},
	}
	views["openbsd"], views["dragonfly"] = views["darwin"], views["darwin"]
	layouts := readLayouts(t)
	if len(layouts) != 9 {
		t.Fatalf("layouts.txt has %d rows, want 9", len(layouts))
	}
	for _, l := range layouts {
		v, ok := views[l.os]
		if !ok {
			t.Fatalf("no view for %s", l.os)
		}
		want := view{l.size, l.ident, l.filter, l.fw, l.flags, l.flw, l.fflags, l.data, l.udata}
		if v != want {
			t.Errorf("%s/%s: view %+v, documented %+v", l.os, l.arch, v, want)
		}
	}
}
