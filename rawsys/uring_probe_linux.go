//go:build amd64 || arm64

package rawsys

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IoUringRefusalKind classifies why io_uring cannot be used.
type IoUringRefusalKind uint8

// The refusals IoUringProber.Probe reports, in the order it checks.
const (
	// IoUringDisabled: kernel.io_uring_disabled is 2 (io_uring_setup is
	// refused to everyone), or 1 and io_uring_setup answered EPERM (the
	// process is neither in kernel.io_uring_group nor CAP_SYS_ADMIN).
	// The sysctl exists from Linux 6.6 (Documentation/admin-guide/sysctl/kernel.rst).
	IoUringDisabled IoUringRefusalKind = iota + 1
	// IoUringNoSys: io_uring_setup answered ENOSYS: a kernel built
	// without CONFIG_IO_URING, an emulator that does not implement it
	// (qemu-user), or a seccomp filter that answers ENOSYS.
	IoUringNoSys
	// IoUringDenied: io_uring_setup answered EPERM with io_uring enabled
	// in the kernel: a seccomp filter (Docker's default profile denies
	// io_uring since 25.0, moby#46762) or an LSM.
	IoUringDenied
	// IoUringSetupFailed: io_uring_setup or the ring mappings failed
	// otherwise (EINVAL for setup flags this kernel lacks, ENOMEM,
	// EMFILE, ...).
	IoUringSetupFailed
	// IoUringNoFeature: the ring lacks a required IORING_FEAT_* bit
	// (NODROP, 5.5; EXT_ARG, 5.11).
	IoUringNoFeature
	// IoUringNoOp: IORING_REGISTER_PROBE (5.6) failed or does not list a
	// required opcode as supported.
	IoUringNoOp
	// IoUringNoMultishot: a multishot IORING_OP_POLL_ADD
	// (IORING_POLL_ADD_MULTI, 5.13) was refused or did not stay armed.
	// IORING_REGISTER_PROBE lists opcodes, not their flags, so this is
	// tried for real on an eventfd.
	IoUringNoMultishot
)

var refusalNames = [...]string{
	IoUringDisabled:    "disabled by kernel.io_uring_disabled",
	IoUringNoSys:       "io_uring_setup: ENOSYS",
	IoUringDenied:      "io_uring_setup: EPERM",
	IoUringSetupFailed: "ring setup failed",
	IoUringNoFeature:   "missing feature",
	IoUringNoOp:        "missing opcode",
	IoUringNoMultishot: "no multishot poll",
}

func (k IoUringRefusalKind) String() string {
	if int(k) < len(refusalNames) && refusalNames[k] != "" {
		return refusalNames[k]
	}
	return fmt.Sprintf("IoUringRefusalKind(%d)", uint8(k))
}

// IoUringRefusal is the error IoUringProber.Probe returns when io_uring is
// not usable: which check refused, the errno of the call that refused (0
// when the refusal is not an errno) and a sentence saying why. errors.Is
// matches Errno.
type IoUringRefusal struct {
	Kind   IoUringRefusalKind
	Errno  syscall.Errno
	Detail string
}

func (e *IoUringRefusal) Error() string {
	s := "io_uring unusable: " + e.Kind.String()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Errno != 0 {
		s += " (" + e.Errno.Error() + ")"
	}
	return s
}

// Unwrap returns Errno, or nil when the refusal is not an errno.
func (e *IoUringRefusal) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// IoUringDisabledPath is the sysctl kernel.io_uring_disabled (Linux 6.6+).
const IoUringDisabledPath = "/proc/sys/kernel/io_uring_disabled"

// IoUringProber checks whether io_uring can serve as a readiness backend
// here. The zero value checks for real with the defaults; every hook that
// is set replaces one step, so that a test can force each refusal (a Setup
// that answers EPERM, a Register that lists no POLL_ADD, a ReadFile that
// says io_uring_disabled is 2, ...). Probe is a cold path: it allocates,
// and makes a handful of system calls.
type IoUringProber struct {
	// Entries is the probe ring's size (default 8); Flags are the setup
	// flags to try, so that a kernel lacking one refuses here
	// (IoUringSetupFailed with EINVAL) rather than later.
	Entries uint32
	Flags   uint32
	// Features are required IORING_FEAT_* bits on top of NODROP and
	// EXT_ARG. Ops are required opcodes on top of POLL_ADD and
	// POLL_REMOVE.
	Features uint32
	Ops      []uint8

	// ReadFile reads IoUringDisabledPath (default os.ReadFile). A missing
	// file (kernels before 6.6) counts as 0.
	ReadFile func(name string) ([]byte, error)
	// Setup is io_uring_setup (default IoUringSetup).
	Setup func(entries uint32, p *IoUringParams) (fd int, errno syscall.Errno)
	// Register is io_uring_register (default IoUringRegister), called
	// with IORING_REGISTER_PROBE.
	Register func(fd int, opcode uint32, arg unsafe.Pointer, nrArgs uint32) (int, syscall.Errno)
	// Close closes what Setup returned when the probe fails before the
	// ring is mapped (default unix.Close).
	Close func(fd int) error
	// Multishot checks multishot poll on the mapped ring (default: arm
	// one on a readable eventfd and require a completion with POLLIN and
	// IORING_CQE_F_MORE within a second).
	Multishot func(r *IoUring) error
}

// ProbeIoUring checks io_uring for real with the defaults of
// IoUringProber: nil when usable, an *IoUringRefusal otherwise.
func ProbeIoUring() error { return (&IoUringProber{}).Probe() }

// Probe runs the checks in order and returns nil when io_uring is usable,
// or an *IoUringRefusal for the first that refuses: kernel.io_uring_disabled,
// io_uring_setup, the features, IORING_REGISTER_PROBE, the mappings,
// multishot poll.
func (pr *IoUringProber) Probe() error {
	readFile := pr.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	setup := pr.Setup
	if setup == nil {
		setup = IoUringSetup
	}
	register := pr.Register
	if register == nil {
		register = IoUringRegister
	}
	closeFd := pr.Close
	if closeFd == nil {
		closeFd = unix.Close
	}
	multishot := pr.Multishot
	if multishot == nil {
		multishot = checkMultishotPoll
	}
	entries := pr.Entries
	if entries == 0 {
		entries = 8
	}

	disabled := 0
	if b, err := readFile(IoUringDisabledPath); err == nil {
		switch string(bytes.TrimSpace(b)) {
		case "0":
		case "1":
			disabled = 1
		case "2":
			return &IoUringRefusal{Kind: IoUringDisabled, Detail: "kernel.io_uring_disabled=2 refuses io_uring_setup to every process"}
		default:
			disabled = -1 // unknown value: let io_uring_setup decide
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		disabled = -1
	}

	params := IoUringParams{Flags: pr.Flags}
	fd, errno := setup(entries, &params)
	switch {
	case errno == syscall.ENOSYS:
		return &IoUringRefusal{Kind: IoUringNoSys, Errno: errno, Detail: "a kernel without CONFIG_IO_URING, an emulator such as qemu-user, or a seccomp filter answering ENOSYS"}
	case errno == syscall.EPERM && disabled == 1:
		return &IoUringRefusal{Kind: IoUringDisabled, Errno: errno, Detail: "kernel.io_uring_disabled=1 and this process is neither in kernel.io_uring_group nor CAP_SYS_ADMIN"}
	case errno == syscall.EPERM:
		return &IoUringRefusal{Kind: IoUringDenied, Errno: errno, Detail: "a seccomp filter (Docker's default profile since 25.0, moby#46762) or an LSM; kernel.io_uring_disabled allows it"}
	case errno != 0:
		return &IoUringRefusal{Kind: IoUringSetupFailed, Errno: errno, Detail: fmt.Sprintf("io_uring_setup(%d, flags %#x)", entries, pr.Flags)}
	}
	mapped := false
	defer func() {
		if !mapped {
			closeFd(fd)
		}
	}()

	need := uint32(IORING_FEAT_NODROP|IORING_FEAT_EXT_ARG) | pr.Features
	if missing := need &^ params.Features; missing != 0 {
		return &IoUringRefusal{Kind: IoUringNoFeature, Detail: fmt.Sprintf("features %#x lack %#x (IORING_FEAT_NODROP is 5.5, IORING_FEAT_EXT_ARG 5.11)", params.Features, missing)}
	}

	probe := new(IoUringProbe)
	if _, errno := register(fd, IORING_REGISTER_PROBE, unsafe.Pointer(probe), ioUringProbeOps); errno != 0 {
		return &IoUringRefusal{Kind: IoUringNoOp, Errno: errno, Detail: "IORING_REGISTER_PROBE failed (5.6+)"}
	}
	for _, op := range append([]uint8{IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE}, pr.Ops...) {
		if !probe.Supported(op) {
			return &IoUringRefusal{Kind: IoUringNoOp, Detail: fmt.Sprintf("IORING_REGISTER_PROBE does not list opcode %d as supported (last op %d)", op, probe.LastOp)}
		}
	}

	r, errno := MapIoUring(fd, &params)
	if errno != 0 {
		return &IoUringRefusal{Kind: IoUringSetupFailed, Errno: errno, Detail: "mmap of the rings"}
	}
	mapped = true
	defer r.Close()
	return multishot(r)
}

// checkMultishotPoll arms a multishot POLL_ADD on an eventfd that is
// readable from the start and waits up to a second for its first
// completion.
func checkMultishotPoll(r *IoUring) error {
	efd, errno := Eventfd2(1, EFD_CLOEXEC|EFD_NONBLOCK)
	if errno != 0 {
		return &IoUringRefusal{Kind: IoUringNoMultishot, Errno: errno, Detail: "eventfd2 for the multishot check"}
	}
	defer unix.Close(efd)
	sqe := r.GetSqe()
	sqe.PrepPollAdd(efd, POLLIN, IORING_POLL_ADD_MULTI)
	sqe.UserData = 1
	ts := Timespec{Sec: 1}
	for range 10 { // EINTR: bounded retries
		if _, errno = r.SubmitAndWait(1, &ts); errno != syscall.EINTR {
			break
		}
	}
	cqe := r.PeekCqe()
	if cqe == nil {
		return &IoUringRefusal{Kind: IoUringNoMultishot, Errno: errno, Detail: "no completion within 1s for a poll on a readable eventfd"}
	}
	return multishotVerdict(cqe.Res, cqe.Flags)
}

// multishotVerdict judges the first completion of a multishot poll on a
// readable descriptor.
func multishotVerdict(res int32, flags uint32) error {
	switch {
	case res < 0:
		return &IoUringRefusal{Kind: IoUringNoMultishot, Errno: syscall.Errno(-res), Detail: "IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI failed (5.13+)"}
	case res&POLLIN == 0:
		return &IoUringRefusal{Kind: IoUringNoMultishot, Detail: fmt.Sprintf("poll on a readable eventfd completed with mask %#x, no POLLIN", res)}
	case flags&IORING_CQE_F_MORE == 0:
		return &IoUringRefusal{Kind: IoUringNoMultishot, Detail: "a multishot poll ended with its first completion (no IORING_CQE_F_MORE: IORING_POLL_ADD_MULTI ignored, kernel before 5.13?)"}
	}
	return nil
}
