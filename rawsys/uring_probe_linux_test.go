//go:build amd64 || arm64

package rawsys

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestIoUringProbeReportsRefusal checks the real probe against a direct
// io_uring_setup: where the stub gets ENOSYS (qemu-user, whose arm64 run
// skips every ring test) the probe must refuse with IoUringNoSys; where
// setup works here (Linux 6.18) the probe must accept.
func TestIoUringProbeReportsRefusal(t *testing.T) {
	err := ProbeIoUring()
	var p IoUringParams
	fd, errno := IoUringSetup(8, &p)
	if errno == 0 {
		unix.Close(fd)
	}
	var ref *IoUringRefusal
	switch errno {
	case 0:
		if err != nil {
			t.Fatalf("io_uring_setup works here, yet the probe refuses: %v", err)
		}
		t.Logf("io_uring usable: features %#x", p.Features)
	case syscall.ENOSYS:
		if !errors.As(err, &ref) || ref.Kind != IoUringNoSys || !errors.Is(err, syscall.ENOSYS) {
			t.Fatalf("io_uring_setup answers ENOSYS, the probe says %v", err)
		}
		t.Logf("SKIP (as expected): io_uring refused here, ring tests skipped: %v", err)
	case syscall.EPERM:
		if !errors.As(err, &ref) || (ref.Kind != IoUringDenied && ref.Kind != IoUringDisabled) {
			t.Fatalf("io_uring_setup answers EPERM, the probe says %v", err)
		}
		t.Logf("io_uring refused here: %v", err)
	default:
		if err == nil {
			t.Fatalf("io_uring_setup answers %v, the probe accepts", errno)
		}
	}
}

// fakeRing stands in for io_uring_setup: it returns an eventfd (so that
// closing it is observable) and the given features.
type fakeRing struct {
	t        *testing.T
	features uint32
	setups   int
	closed   []int
	fds      []int
}

func (f *fakeRing) setup(entries uint32, p *IoUringParams) (int, syscall.Errno) {
	f.setups++
	fd, errno := Eventfd2(0, EFD_CLOEXEC)
	if errno != 0 {
		f.t.Fatal(errno)
	}
	f.fds = append(f.fds, fd)
	p.SqEntries, p.CqEntries, p.Features = entries, 2*entries, f.features
	return fd, 0
}

func (f *fakeRing) close(fd int) error {
	f.closed = append(f.closed, fd)
	return unix.Close(fd)
}

// probeWith answers IORING_REGISTER_PROBE with the given ops supported.
func probeWith(ops ...uint8) func(int, uint32, unsafe.Pointer, uint32) (int, syscall.Errno) {
	return func(fd int, opcode uint32, arg unsafe.Pointer, nr uint32) (int, syscall.Errno) {
		if opcode != IORING_REGISTER_PROBE || nr != 256 {
			return -1, syscall.EINVAL
		}
		p := (*IoUringProbe)(arg)
		p.LastOp, p.OpsLen = 62, 63
		for _, op := range ops {
			p.Ops[op] = IoUringProbeOp{Op: op, Flags: IO_URING_OP_SUPPORTED}
		}
		return 0, 0
	}
}

func readsDisabled(v string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if name != IoUringDisabledPath {
			return nil, errors.New("unexpected file " + name)
		}
		if v == "" {
			return nil, os.ErrNotExist
		}
		return []byte(v + "\n"), nil
	}
}

// TestIoUringProbeRefusals forces each refusal through the hooks; none of
// them needs a working io_uring, so this runs under qemu-user too.
func TestIoUringProbeRefusals(t *testing.T) {
	const good = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG
	errnoSetup := func(e syscall.Errno) func(uint32, *IoUringParams) (int, syscall.Errno) {
		return func(uint32, *IoUringParams) (int, syscall.Errno) { return -1, e }
	}
	cases := []struct {
		name       string
		prober     func(f *fakeRing) *IoUringProber
		kind       IoUringRefusalKind
		errno      syscall.Errno
		noSetup    bool // refused before io_uring_setup
		detailHas  string
		closesRing bool
	}{
		{name: "io_uring_disabled=2", kind: IoUringDisabled, noSetup: true, detailHas: "io_uring_disabled=2",
			prober: func(f *fakeRing) *IoUringProber {
				return &IoUringProber{ReadFile: readsDisabled("2"), Setup: f.setup, Close: f.close}
			}},
		{name: "io_uring_disabled=1, EPERM", kind: IoUringDisabled, errno: syscall.EPERM, detailHas: "io_uring_group",
			prober: func(f *fakeRing) *IoUringProber {
				return &IoUringProber{ReadFile: readsDisabled("1"), Setup: errnoSetup(syscall.EPERM)}
			}},
		{name: "seccomp EPERM", kind: IoUringDenied, errno: syscall.EPERM, detailHas: "moby#46762",
			prober: func(f *fakeRing) *IoUringProber {
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: errnoSetup(syscall.EPERM)}
			}},
		{name: "EPERM, no sysctl (before 6.6)", kind: IoUringDenied, errno: syscall.EPERM,
			prober: func(f *fakeRing) *IoUringProber {
				return &IoUringProber{ReadFile: readsDisabled(""), Setup: errnoSetup(syscall.EPERM)}
			}},
		{name: "ENOSYS", kind: IoUringNoSys, errno: syscall.ENOSYS, detailHas: "qemu-user",
			prober: func(f *fakeRing) *IoUringProber {
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: errnoSetup(syscall.ENOSYS)}
			}},
		{name: "setup EINVAL (flags)", kind: IoUringSetupFailed, errno: syscall.EINVAL, detailHas: "flags 0x10000",
			prober: func(f *fakeRing) *IoUringProber {
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: errnoSetup(syscall.EINVAL), Flags: IORING_SETUP_NO_SQARRAY}
			}},
		{name: "no EXT_ARG", kind: IoUringNoFeature, detailHas: "0x100", closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good &^ IORING_FEAT_EXT_ARG
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close}
			}},
		{name: "no NODROP", kind: IoUringNoFeature, detailHas: "0x2", closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good &^ IORING_FEAT_NODROP
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close}
			}},
		{name: "required feature", kind: IoUringNoFeature, closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close, Features: IORING_FEAT_RECVSEND_BUNDLE}
			}},
		{name: "REGISTER_PROBE fails", kind: IoUringNoOp, errno: syscall.EINVAL, closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close,
					Register: func(int, uint32, unsafe.Pointer, uint32) (int, syscall.Errno) { return -1, syscall.EINVAL }}
			}},
		{name: "no POLL_ADD", kind: IoUringNoOp, detailHas: "opcode 6", closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close, Register: probeWith(IORING_OP_NOP, IORING_OP_POLL_REMOVE)}
			}},
		{name: "no POLL_REMOVE", kind: IoUringNoOp, detailHas: "opcode 7", closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close, Register: probeWith(IORING_OP_POLL_ADD)}
			}},
		{name: "required op", kind: IoUringNoOp, detailHas: "opcode 26", closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close,
					Register: probeWith(IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE), Ops: []uint8{IORING_OP_SEND}}
			}},
		{name: "mmap fails", kind: IoUringSetupFailed, errno: syscall.ENODEV, detailHas: "mmap", closesRing: true,
			prober: func(f *fakeRing) *IoUringProber {
				f.features = good
				return &IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup, Close: f.close, Register: probeWith(IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE)}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeRing{t: t}
			err := c.prober(f).Probe()
			var ref *IoUringRefusal
			if !errors.As(err, &ref) {
				t.Fatalf("Probe() = %v, want an *IoUringRefusal", err)
			}
			if ref.Kind != c.kind || ref.Errno != c.errno {
				t.Fatalf("Probe() = %v (kind %d, errno %d); want kind %q, errno %v", err, ref.Kind, ref.Errno, c.kind, c.errno)
			}
			if c.errno != 0 && !errors.Is(err, c.errno) {
				t.Fatalf("errors.Is(%v, %v) is false", err, c.errno)
			}
			if c.errno == 0 && ref.Unwrap() != nil {
				t.Fatalf("Unwrap() = %v with no errno", ref.Unwrap())
			}
			if !strings.Contains(err.Error(), c.kind.String()) || !strings.Contains(ref.Detail, c.detailHas) {
				t.Fatalf("message %q lacks %q or %q", err.Error(), c.kind.String(), c.detailHas)
			}
			if c.noSetup && f.setups != 0 {
				t.Fatal("io_uring_setup called although the sysctl refuses it")
			}
			if c.closesRing && (len(f.closed) != 1 || f.closed[0] != f.fds[0]) {
				t.Fatalf("setup returned %v, probe closed %v", f.fds, f.closed)
			}
			t.Log(err)
		})
	}
	// With the default Close, the descriptor Setup returned is closed too.
	f := &fakeRing{t: t, features: good &^ IORING_FEAT_EXT_ARG}
	if err := (&IoUringProber{ReadFile: readsDisabled("0"), Setup: f.setup}).Probe(); err == nil {
		t.Fatal("probe accepted a ring without EXT_ARG")
	}
	if _, err := unix.FcntlInt(uintptr(f.fds[0]), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("fd %d from Setup still open after the refusal (%v)", f.fds[0], err)
	}
	if s := IoUringRefusalKind(200).String(); !strings.Contains(s, "200") {
		t.Fatalf("unknown kind prints %q", s)
	}
}

// TestIoUringMultishotVerdict judges first completions of a multishot poll
// on a readable descriptor, as kernels old and new post them.
func TestIoUringMultishotVerdict(t *testing.T) {
	cases := []struct {
		res   int32
		flags uint32
		ok    bool
		errno syscall.Errno
	}{
		{POLLIN, IORING_CQE_F_MORE, true, 0},
		{POLLIN | POLLOUT, IORING_CQE_F_MORE, true, 0},
		{-int32(syscall.EINVAL), 0, false, syscall.EINVAL}, // a kernel that refuses the flag
		{POLLIN, 0, false, 0},                              // a kernel that ignores it
		{POLLOUT, IORING_CQE_F_MORE, false, 0},
	}
	for _, c := range cases {
		err := multishotVerdict(c.res, c.flags)
		var ref *IoUringRefusal
		if c.ok != (err == nil) || (err != nil && (!errors.As(err, &ref) || ref.Kind != IoUringNoMultishot || ref.Errno != c.errno)) {
			t.Errorf("multishotVerdict(%d, %#x) = %v", c.res, c.flags, err)
		}
	}
}

// TestIoUringProbeMultishotHook: the last step on a real ring, forced.
func TestIoUringProbeMultishotHook(t *testing.T) {
	needIoUring(t)
	called := false
	err := (&IoUringProber{Multishot: func(r *IoUring) error {
		called = r.Fd() >= 0 && r.Sq.Entries == 8
		return multishotVerdict(POLLIN, 0)
	}}).Probe()
	var ref *IoUringRefusal
	if !called || !errors.As(err, &ref) || ref.Kind != IoUringNoMultishot {
		t.Fatalf("called %v, Probe() = %v; want IoUringNoMultishot", called, err)
	}
	// The real check, with setup flags the kernel has and with one it lacks.
	if err := (&IoUringProber{Flags: IORING_SETUP_SUBMIT_ALL, Ops: []uint8{IORING_OP_SEND, IORING_OP_RECV}}).Probe(); err != nil {
		t.Fatalf("Probe(SUBMIT_ALL, SEND, RECV): %v", err)
	}
	if err := (&IoUringProber{Flags: 1 << 31}).Probe(); !errors.As(err, &ref) || ref.Kind != IoUringSetupFailed || ref.Errno != syscall.EINVAL {
		t.Fatalf("Probe(unknown flag) = %v, want IoUringSetupFailed EINVAL", err)
	}
}

// TestIoUringProbeSeccomp runs the real probe in a child process behind a
// seccomp filter that answers io_uring_setup, io_uring_enter and
// io_uring_register with EPERM (as Docker's default profile does,
// moby#46762) or ENOSYS.
func TestIoUringProbeSeccomp(t *testing.T) {
	if mode := os.Getenv("RAWPOLL_URING_SECCOMP"); mode != "" {
		seccompChild(t, mode)
		return
	}
	needIoUring(t) // under qemu-user a filter would meet qemu's own system calls
	for _, mode := range []string{"EPERM", "ENOSYS"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIoUringProbeSeccomp$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "RAWPOLL_URING_SECCOMP="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			if len(out) == 0 {
				t.Skipf("SKIP: cannot re-execute the test binary (%v)", err)
			}
			t.Fatalf("child behind a seccomp filter (%s): %v\n%s", mode, err, out)
		}
		if !strings.Contains(string(out), "refused behind seccomp") {
			t.Fatalf("child (%s) did not run the probe:\n%s", mode, out)
		}
		for line := range strings.Lines(string(out)) {
			if strings.Contains(line, "refused behind seccomp") {
				t.Log(strings.TrimSpace(line))
			}
		}
	}
}

func seccompChild(t *testing.T, mode string) {
	errno, kind := syscall.EPERM, IoUringDenied
	if mode == "ENOSYS" {
		errno, kind = syscall.ENOSYS, IoUringNoSys
	}
	arch := uint32(unix.AUDIT_ARCH_X86_64)
	if runtime.GOARCH == "arm64" {
		arch = unix.AUDIT_ARCH_AARCH64
	}
	const ld = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	const ret = unix.BPF_RET | unix.BPF_K
	filter := []unix.SockFilter{
		{Code: ld, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: 4, K: arch},
		{Code: ld, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, Jf: 2, K: unix.SYS_IO_URING_SETUP},
		{Code: unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, Jt: 1, K: unix.SYS_IO_URING_REGISTER},
		{Code: ret, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	// TSYNC: every thread of the process, since the probe may run on any.
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); e != 0 {
		t.Fatalf("seccomp: %v", e)
	}
	var p IoUringParams
	if _, e := IoUringSetup(8, &p); e != errno {
		t.Fatalf("io_uring_setup behind the filter: %v, want %v", e, errno)
	}
	err := ProbeIoUring()
	var ref *IoUringRefusal
	if !errors.As(err, &ref) || ref.Kind != kind || ref.Errno != errno {
		t.Fatalf("probe behind a seccomp filter answering %v: %v; want kind %q", errno, err, kind)
	}
	t.Logf("refused behind seccomp (%s): %v", mode, err)
}
