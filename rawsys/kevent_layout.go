package rawsys

// The kqueue ABI of every kqueue OS, compiled on every OS (Linux included)
// so that the decoding the kqueue backend uses is tested here against
// golden buffers (testdata/kevent). The per-OS files (kevent_$GOOS.go)
// alias Kevent_t and Kq to the entries for their OS.

// Only 64-bit targets (amd64, arm64) are built: on the 32-bit BSDs ident
// and udata are 32 bits and the timespec differs (x/sys
// ztypes_freebsd_386.go: 56-byte kevent, 32-bit tv_sec), and no CI runs
// them, so selector routes them to its unsupported build.

// Kevent32 is struct kevent as darwin, OpenBSD and DragonFly lay it out on
// 64-bit targets: 32 bytes. Sources: xnu bsd/sys/event.h (struct kevent,
// the 64-bit-pointer layout), OpenBSD sys/sys/event.h 1.74, DragonFly 6.4
// sys/sys/event.h.
//
//	0 ident uintptr | 8 filter int16 | 10 flags uint16 | 12 fflags uint32
//	16 data intptr_t (int64 on darwin/DragonFly, int64 on OpenBSD) | 24 udata void*
type Kevent32 struct {
	ident  uint64
	filter int16
	flags  uint16
	fflags uint32
	data   int64
	udata  uint64 // void* in C; a token here, never a Go pointer
}

// KeventFreeBSD is struct kevent of FreeBSD 12 and later (sys/sys/event.h,
// FreeBSD 14.1), the layout syscall 560 (kevent, ino64) reads: 64 bytes,
// with ext[4]. The old 32-byte layout belongs to syscall 363 (freebsd11
// compat) and is not used.
//
//	0 ident | 8 filter int16 | 10 flags uint16 | 12 fflags uint32
//	16 data int64 | 24 udata | 32 ext[4] uint64
type KeventFreeBSD struct {
	ident  uint64
	filter int16
	flags  uint16
	fflags uint32
	data   int64
	udata  uint64
	ext    [4]uint64
}

// KeventNetBSD is struct kevent of NetBSD (sys/sys/event.h, NetBSD 10.0),
// the layout of __kevent50 (syscall 435): filter and flags are uint32, and
// data is 8-aligned after 4 bytes of padding: 40 bytes.
//
//	0 ident | 8 filter uint32 | 12 flags uint32 | 16 fflags uint32
//	20 (pad) | 24 data int64 | 32 udata intptr_t
type KeventNetBSD struct {
	ident  uint64
	filter uint32
	flags  uint32
	fflags uint32
	_      uint32
	data   int64
	udata  uint64
}

// The accessors read each field in place and widen it to one type for all
// OSes: filter to int32 (NetBSD's uint32 filters are small), flags and
// fflags to uint32.

// Ident returns the identifier (the fd for EVFILT_READ/WRITE).
func (k *Kevent32) Ident() uint64 { return k.ident }

// Filter returns the filter, sign-extended.
func (k *Kevent32) Filter() int32 { return int32(k.filter) }

// Flags returns the EV_* flags.
func (k *Kevent32) Flags() uint32 { return uint32(k.flags) }

// Fflags returns the filter-specific flags (for EV_EOF: the socket error).
func (k *Kevent32) Fflags() uint32 { return k.fflags }

// Data returns the filter-specific data (for EV_ERROR: the errno).
func (k *Kevent32) Data() int64 { return k.data }

// Udata returns the user data: the token.
func (k *Kevent32) Udata() uint64 { return k.udata }

// Set fills a change record.
func (k *Kevent32) Set(ident uint64, filter int32, flags, fflags uint32, data int64, udata uint64) {
	*k = Kevent32{ident: ident, filter: int16(filter), flags: uint16(flags), fflags: fflags, data: data, udata: udata}
}

// Ident returns the identifier (the fd for EVFILT_READ/WRITE).
func (k *KeventFreeBSD) Ident() uint64 { return k.ident }

// Filter returns the filter, sign-extended.
func (k *KeventFreeBSD) Filter() int32 { return int32(k.filter) }

// Flags returns the EV_* flags.
func (k *KeventFreeBSD) Flags() uint32 { return uint32(k.flags) }

// Fflags returns the filter-specific flags.
func (k *KeventFreeBSD) Fflags() uint32 { return k.fflags }

// Data returns the filter-specific data.
func (k *KeventFreeBSD) Data() int64 { return k.data }

// Udata returns the user data: the token.
func (k *KeventFreeBSD) Udata() uint64 { return k.udata }

// Ext returns the extension words (FreeBSD 12+; EVFILT_TIMER and a few
// others use them). The selector never does, but they are part of the
// layout the kernel writes.
func (k *KeventFreeBSD) Ext() [4]uint64 { return k.ext }

// Set fills a change record (ext zeroed).
func (k *KeventFreeBSD) Set(ident uint64, filter int32, flags, fflags uint32, data int64, udata uint64) {
	*k = KeventFreeBSD{ident: ident, filter: int16(filter), flags: uint16(flags), fflags: fflags, data: data, udata: udata}
}

// Ident returns the identifier (the fd for EVFILT_READ/WRITE).
func (k *KeventNetBSD) Ident() uint64 { return k.ident }

// Filter returns the filter.
func (k *KeventNetBSD) Filter() int32 { return int32(k.filter) }

// Flags returns the EV_* flags.
func (k *KeventNetBSD) Flags() uint32 { return k.flags }

// Fflags returns the filter-specific flags.
func (k *KeventNetBSD) Fflags() uint32 { return k.fflags }

// Data returns the filter-specific data.
func (k *KeventNetBSD) Data() int64 { return k.data }

// Udata returns the user data: the token.
func (k *KeventNetBSD) Udata() uint64 { return k.udata }

// Set fills a change record.
func (k *KeventNetBSD) Set(ident uint64, filter int32, flags, fflags uint32, data int64, udata uint64) {
	*k = KeventNetBSD{ident: ident, filter: uint32(filter), flags: flags, fflags: fflags, data: data, udata: udata}
}

// KqConsts are one OS's kqueue constants, from the same headers as the
// layouts. A filter the OS lacks is NoFilter.
type KqConsts struct {
	OS string

	EVFILT_READ, EVFILT_WRITE, EVFILT_AIO, EVFILT_LIO, EVFILT_USER, EVFILT_TIMER int32

	EV_ADD, EV_DELETE, EV_ENABLE, EV_DISABLE, EV_ONESHOT, EV_CLEAR, EV_RECEIPT, EV_EOF, EV_ERROR uint32

	NOTE_TRIGGER uint32
}

// NoFilter marks a filter an OS does not have; no kernel uses it.
const NoFilter int32 = -1 << 30

// The flags have the same values on every kqueue OS.
const (
	evAdd     = 0x1
	evDelete  = 0x2
	evEnable  = 0x4
	evDisable = 0x8
	evOneshot = 0x10
	evClear   = 0x20
	evReceipt = 0x40
	evEOF     = 0x8000
	evError   = 0x4000
	noteTrig  = 0x01000000
)

// Constants per OS, from each OS's sys/sys/event.h (xnu bsd/sys/event.h),
// checked against golang.org/x/sys by xsys_crosscheck_test.go where x/sys
// has them. EVFILT_USER: darwin -10, FreeBSD -11, DragonFly -9, NetBSD 8
// (NetBSD 10 and later), OpenBSD -10 (event.h 1.74, OpenBSD 7.8; older
// kernels refuse it with EINVAL). EVFILT_LIO: FreeBSD only. EVFILT_AIO is
// listed where a kernel can deliver aio completions through kqueue
// (FreeBSD, DragonFly); darwin defines it, but its filter is bad_filtops
// (xnu kern_event.c sysfilt_ops) and nothing can fire it, so the selector
// refuses AIO there (selector/kqueue_kernels.go). EVFILT_TIMER (every OS)
// is only used for the Close wake-up where EVFILT_USER is missing.
var (
	KqDarwin = KqConsts{OS: "darwin",
		EVFILT_READ: -1, EVFILT_WRITE: -2, EVFILT_AIO: -3, EVFILT_LIO: NoFilter, EVFILT_USER: -10, EVFILT_TIMER: -7,
		EV_ADD: evAdd, EV_DELETE: evDelete, EV_ENABLE: evEnable, EV_DISABLE: evDisable, EV_ONESHOT: evOneshot,
		EV_CLEAR: evClear, EV_RECEIPT: evReceipt, EV_EOF: evEOF, EV_ERROR: evError, NOTE_TRIGGER: noteTrig}
	KqFreeBSD = KqConsts{OS: "freebsd",
		EVFILT_READ: -1, EVFILT_WRITE: -2, EVFILT_AIO: -3, EVFILT_LIO: -10, EVFILT_USER: -11, EVFILT_TIMER: -7,
		EV_ADD: evAdd, EV_DELETE: evDelete, EV_ENABLE: evEnable, EV_DISABLE: evDisable, EV_ONESHOT: evOneshot,
		EV_CLEAR: evClear, EV_RECEIPT: evReceipt, EV_EOF: evEOF, EV_ERROR: evError, NOTE_TRIGGER: noteTrig}
	KqDragonFly = KqConsts{OS: "dragonfly",
		EVFILT_READ: -1, EVFILT_WRITE: -2, EVFILT_AIO: -3, EVFILT_LIO: NoFilter, EVFILT_USER: -9, EVFILT_TIMER: -7,
		EV_ADD: evAdd, EV_DELETE: evDelete, EV_ENABLE: evEnable, EV_DISABLE: evDisable, EV_ONESHOT: evOneshot,
		EV_CLEAR: evClear, EV_RECEIPT: evReceipt, EV_EOF: evEOF, EV_ERROR: evError, NOTE_TRIGGER: noteTrig}
	KqOpenBSD = KqConsts{OS: "openbsd",
		EVFILT_READ: -1, EVFILT_WRITE: -2, EVFILT_AIO: NoFilter, EVFILT_LIO: NoFilter, EVFILT_USER: -10, EVFILT_TIMER: -7,
		EV_ADD: evAdd, EV_DELETE: evDelete, EV_ENABLE: evEnable, EV_DISABLE: evDisable, EV_ONESHOT: evOneshot,
		EV_CLEAR: evClear, EV_RECEIPT: evReceipt, EV_EOF: evEOF, EV_ERROR: evError, NOTE_TRIGGER: noteTrig}
	KqNetBSD = KqConsts{OS: "netbsd",
		EVFILT_READ: 0, EVFILT_WRITE: 1, EVFILT_AIO: NoFilter, EVFILT_LIO: NoFilter, EVFILT_USER: 8, EVFILT_TIMER: 6,
		EV_ADD: evAdd, EV_DELETE: evDelete, EV_ENABLE: evEnable, EV_DISABLE: evDisable, EV_ONESHOT: evOneshot,
		EV_CLEAR: evClear, EV_RECEIPT: evReceipt, EV_EOF: evEOF, EV_ERROR: evError, NOTE_TRIGGER: noteTrig}
)
