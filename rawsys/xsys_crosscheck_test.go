package rawsys

// The kqueue ABI checked against an independent source on any OS, Linux
// included: golang.org/x/sys/unix, whose types and constants are generated
// by cgo -godefs from each OS's own headers. For every target the kqueue
// backend is built for (one row of testdata/kevent/layouts.txt each), the
// test loads x/sys/unix and rawsys itself with GOOS/GOARCH set to that
// target through golang.org/x/tools/go/packages, and compares with
// go/types and the target's own types.Sizes:
//
//   - the size, field offsets and field sizes of rawsys's Kevent_t and
//     Timespec against x/sys's Kevent_t and Timespec;
//   - the layouts.txt row (which the golden buffers are written from)
//     against x/sys's Kevent_t;
//   - every EV_*, EVFILT_* and NOTE_* value of the KqConsts table that the
//     target's Kq names (read from rawsys's syntax), and every syscall
//     number and flag rawsys declares for the target, against x/sys's
//     constant of the same name.
//
// A value x/sys does not have must be listed in notInXSys with the header
// it comes from; a listed one that x/sys gains fails the test, so the list
// never hides a difference. The 32-bit BSD targets are checked to have no
// Kevent_t at all (they build the unsupported selector).

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// notInXSys lists, per GOOS, the values rawsys uses that x/sys v0.50 has
// no constant for, and where they come from instead.
var notInXSys = map[string]map[string]string{
	"netbsd": {
		// x/sys's zerrors_netbsd_*.go predate NetBSD 10.
		"EVFILT_USER":  "NetBSD 10 sys/sys/event.h: EVFILT_USER 8",
		"EV_RECEIPT":   "NetBSD 10 sys/sys/event.h: EV_RECEIPT 0x0040",
		"NOTE_TRIGGER": "NetBSD 10 sys/sys/event.h: NOTE_TRIGGER 0x01000000",
	},
	"openbsd": {
		"EVFILT_USER":  "OpenBSD sys/sys/event.h 1.74 (2025-05): EVFILT_USER (-10)",
		"NOTE_TRIGGER": "OpenBSD sys/sys/event.h 1.74 (2025-05): NOTE_TRIGGER 0x01000000",
	},
	"freebsd": {
		"SYS_KQUEUEX":    "FreeBSD sys/kern/syscalls.master: 583 kqueuex(u_int flags) (13.3, 14.0)",
		"KQUEUE_CLOEXEC": "FreeBSD sys/sys/event.h: KQUEUE_CLOEXEC 0x00000001",
	},
}

// sysNames maps rawsys's per-OS syscall constants to x/sys's names.
var sysNames = map[string]map[string]string{
	"freebsd":   {"sysKqueue": "SYS_KQUEUE", "sysKevent": "SYS_KEVENT", "sysKqueueCloexec": "SYS_KQUEUEX", "kqueueCloexecArg": "KQUEUE_CLOEXEC"},
	"netbsd":    {"sysKqueue": "SYS_KQUEUE", "sysKevent": "SYS_KEVENT", "sysKqueueCloexec": "SYS_KQUEUE1", "kqueueCloexecArg": "O_CLOEXEC"},
	"dragonfly": {"sysKqueue": "SYS_KQUEUE", "sysKevent": "SYS_KEVENT", "sysKqueueCloexec": "", "kqueueCloexecArg": ""},
	// darwin and OpenBSD go through libc: no numbers.
	"darwin":  {},
	"openbsd": {},
}

// unsupported32 are the BSD targets routed to the unsupported selector.
var unsupported32 = []string{"freebsd/386", "freebsd/arm", "netbsd/386", "netbsd/arm", "openbsd/386", "openbsd/arm"}

var hostTables = map[string]*KqConsts{
	"KqDarwin": &KqDarwin, "KqFreeBSD": &KqFreeBSD, "KqNetBSD": &KqNetBSD, "KqOpenBSD": &KqOpenBSD, "KqDragonFly": &KqDragonFly,
}

func TestKeventLayoutsMatchXSys(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("SKIP: x/sys cross-check NOT RUN: no go command on PATH to load x/sys/unix for the kqueue targets")
	}
	for _, l := range readLayouts(t) {
		t.Run(l.os+"/"+l.arch, func(t *testing.T) {
			xsys := load(t, l.os, l.arch, packages.NeedTypes|packages.NeedTypesSizes, "golang.org/x/sys/unix")
			raw := load(t, l.os, l.arch, packages.NeedTypes|packages.NeedTypesSizes|packages.NeedSyntax|packages.NeedTypesInfo, "github.com/rawpoll/rawpoll/rawsys")
			checkStruct(t, "Kevent_t", raw, xsys)
			checkStruct(t, "Timespec", raw, xsys)
			checkRow(t, l, xsys)
			checkConsts(t, l.os, raw, xsys)
			checkSyscalls(t, l.os, raw, xsys)
		})
	}
	for _, target := range unsupported32 {
		goos, goarch, _ := strings.Cut(target, "/")
		t.Run(target, func(t *testing.T) {
			raw := load(t, goos, goarch, packages.NeedTypes, "github.com/rawpoll/rawpoll/rawsys")
			if raw.Types.Scope().Lookup("Kevent_t") != nil {
				t.Errorf("rawsys declares Kevent_t on %s, whose struct kevent is not the 64-bit layout", target)
			}
		})
	}
}

func load(t *testing.T, goos, goarch string, mode packages.LoadMode, path string) *packages.Package {
	t.Helper()
	cfg := &packages.Config{
		Mode: packages.NeedName | mode,
		Env:  append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0"),
	}
	pkgs, err := packages.Load(cfg, path)
	if err != nil {
		t.Fatalf("load %s for %s/%s: %v", path, goos, goarch, err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) != 0 || pkgs[0].Types == nil {
		t.Fatalf("load %s for %s/%s: %d packages, errors %v", path, goos, goarch, len(pkgs), pkgs[0].Errors)
	}
	return pkgs[0]
}

type fieldLayout struct{ off, size int64 }

// layoutOf returns the size of the named struct type in p and the offset
// and size of each named field, by lower-cased name (padding fields
// skipped), with p's own sizes (the target's GOARCH).
func layoutOf(t *testing.T, p *packages.Package, name string) (int64, map[string]fieldLayout) {
	t.Helper()
	obj := p.Types.Scope().Lookup(name)
	if obj == nil {
		t.Fatalf("%s has no %s", p.PkgPath, name)
	}
	st, ok := types.Unalias(obj.Type()).Underlying().(*types.Struct)
	if !ok {
		t.Fatalf("%s.%s is not a struct", p.PkgPath, name)
	}
	var fields []*types.Var
	for i := range st.NumFields() {
		fields = append(fields, st.Field(i))
	}
	offs := p.TypesSizes.Offsetsof(fields)
	out := map[string]fieldLayout{}
	for i, f := range fields {
		if f.Name() == "_" || strings.HasPrefix(f.Name(), "Pad_cgo") {
			continue
		}
		out[strings.ToLower(f.Name())] = fieldLayout{offs[i], p.TypesSizes.Sizeof(f.Type())}
	}
	return p.TypesSizes.Sizeof(st), out
}

func checkStruct(t *testing.T, name string, raw, xsys *packages.Package) {
	t.Helper()
	rs, rf := layoutOf(t, raw, name)
	xs, xf := layoutOf(t, xsys, name)
	if rs != xs {
		t.Errorf("sizeof %s: rawsys %d, x/sys %d", name, rs, xs)
	}
	for f, x := range xf {
		if r, ok := rf[f]; !ok {
			t.Errorf("%s.%s: x/sys has it at offset %d, rawsys has no such field", name, f, x.off)
		} else if r != x {
			t.Errorf("%s.%s: rawsys offset %d size %d, x/sys offset %d size %d", name, f, r.off, r.size, x.off, x.size)
		}
	}
	for f := range rf {
		if _, ok := xf[f]; !ok {
			t.Errorf("%s.%s: rawsys has it, x/sys has no such field", name, f)
		}
	}
}

// checkRow compares the layouts.txt row, which the golden buffers are
// written from, with x/sys's Kevent_t.
func checkRow(t *testing.T, l docLayout, xsys *packages.Package) {
	t.Helper()
	size, f := layoutOf(t, xsys, "Kevent_t")
	got := fmt.Sprint(l.size, l.ident, l.filter, l.fw, l.flags, l.flw, l.fflags, l.data, l.udata)
	want := fmt.Sprint(size, f["ident"].off, f["filter"].off, f["filter"].size, f["flags"].off, f["flags"].size, f["fflags"].off, f["data"].off, f["udata"].off)
	if got != want {
		t.Errorf("layouts.txt %s/%s: size ident filter/width flags/width fflags data udata = %s, x/sys %s", l.os, l.arch, got, want)
	}
}

// kqTableOf finds which KqConsts table the target's Kq is initialized
// with (var Kq = KqDarwin in kevent_$GOOS.go).
func kqTableOf(t *testing.T, raw *packages.Package) (string, *KqConsts) {
	t.Helper()
	for _, f := range raw.Syntax {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range g.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "Kq" || len(vs.Values) != 1 {
					continue
				}
				id, ok := vs.Values[0].(*ast.Ident)
				if !ok || hostTables[id.Name] == nil {
					t.Fatalf("Kq is initialized with %T, not one of the KqConsts tables", vs.Values[0])
				}
				return id.Name, hostTables[id.Name]
			}
		}
	}
	t.Fatal("rawsys declares no Kq for this target")
	return "", nil
}

func xsysConst(xsys *packages.Package, name string) (int64, bool) {
	c, ok := xsys.Types.Scope().Lookup(name).(*types.Const)
	if !ok {
		return 0, false
	}
	v, exact := constant.Int64Val(constant.ToInt(c.Val()))
	return v, exact
}

func checkConsts(t *testing.T, goos string, raw, xsys *packages.Package) {
	t.Helper()
	name, k := kqTableOf(t, raw)
	if k.OS != goos {
		t.Errorf("Kq is %s, whose OS is %q, on %s", name, k.OS, goos)
	}
	v := reflect.ValueOf(*k)
	for i := range v.NumField() {
		field := v.Type().Field(i).Name
		if field == "OS" {
			continue
		}
		var ours int64
		if v.Field(i).CanInt() {
			ours = v.Field(i).Int()
		} else {
			ours = int64(v.Field(i).Uint())
		}
		if ours == int64(NoFilter) {
			continue // the OS has no such filter: nothing uses it
		}
		checkValue(t, goos, name+"."+field, field, ours, xsys)
	}
}

func checkValue(t *testing.T, goos, what, xname string, ours int64, xsys *packages.Package) {
	t.Helper()
	theirs, ok := xsysConst(xsys, xname)
	src, listed := notInXSys[goos][xname]
	switch {
	case ok && listed:
		t.Errorf("%s: x/sys now has %s = %#x; remove it from notInXSys (%s) so that it is compared", what, xname, theirs, src)
	case !ok && !listed:
		t.Errorf("%s = %#x: x/sys has no %s on %s; list it in notInXSys with its source", what, ours, xname, goos)
	case ok && ours != theirs:
		t.Errorf("%s = %#x, x/sys %s = %#x", what, ours, xname, theirs)
	case !ok:
		t.Logf("%s = %#x: not in x/sys; from %s", what, ours, src)
	}
}

func checkSyscalls(t *testing.T, goos string, raw, xsys *packages.Package) {
	t.Helper()
	names := sysNames[goos]
	scope := raw.Types.Scope()
	for _, n := range scope.Names() {
		c, ok := scope.Lookup(n).(*types.Const)
		if !ok || !(strings.HasPrefix(n, "sys") || strings.HasPrefix(n, "kqueue")) {
			continue
		}
		xname, known := names[n]
		if !known {
			t.Errorf("rawsys const %s on %s has no x/sys counterpart in sysNames", n, goos)
			continue
		}
		ours, _ := constant.Int64Val(c.Val())
		if xname == "" {
			if ours != 0 {
				t.Errorf("%s = %d, but %s has no such call", n, ours, goos)
			}
			for _, x := range []string{"SYS_KQUEUE1", "SYS_KQUEUEX"} {
				if _, ok := xsysConst(xsys, x); ok {
					t.Errorf("x/sys has %s on %s: use it for %s", x, goos, n)
				}
			}
			continue
		}
		checkValue(t, goos, n, xname, ours, xsys)
	}
	for n := range names {
		if scope.Lookup(n) == nil {
			t.Errorf("rawsys on %s has no %s", goos, n)
		}
	}
}
