//go:build amd64 || arm64

package rawsys

import (
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The expected numbers below are written out from
// include/uapi/linux/io_uring.h as of Linux 6.18 (struct layouts as the C
// compiler lays them out on a 64-bit target; enum values counted from the
// enum declarations). x/sys has the system call numbers only, so the rest is
// checked against these numbers and, where the running kernel carries BTF
// (/sys/kernel/btf/vmlinux), against the kernel's own type information in
// TestIoUringLayoutBTF.

type fieldWant struct {
	field  string // Go field
	kernel string // member of the kernel struct
	off    uintptr
	size   uintptr
}

var ioUringLayouts = []struct {
	typ    reflect.Type
	kernel string
	size   uintptr
	fields []fieldWant
}{
	{reflect.TypeFor[IoUringSqe](), "io_uring_sqe", 64, []fieldWant{
		{"Opcode", "opcode", 0, 1}, {"Flags", "flags", 1, 1}, {"Ioprio", "ioprio", 2, 2},
		{"Fd", "fd", 4, 4}, {"Off", "off", 8, 8}, {"Off", "addr2", 8, 8},
		{"Addr", "addr", 16, 8}, {"Addr", "splice_off_in", 16, 8}, {"Len", "len", 24, 4},
		{"OpFlags", "rw_flags", 28, 4}, {"OpFlags", "poll32_events", 28, 4},
		{"OpFlags", "msg_flags", 28, 4}, {"OpFlags", "cancel_flags", 28, 4},
		{"OpFlags", "timeout_flags", 28, 4}, {"OpFlags", "accept_flags", 28, 4},
		{"UserData", "user_data", 32, 8}, {"BufIndex", "buf_index", 40, 2},
		{"BufIndex", "buf_group", 40, 2}, {"Personality", "personality", 42, 2},
		{"FileIndex", "splice_fd_in", 44, 4}, {"FileIndex", "file_index", 44, 4},
		{"Addr3", "addr3", 48, 8},
	}},
	{reflect.TypeFor[IoUringCqe](), "io_uring_cqe", 16, []fieldWant{
		{"UserData", "user_data", 0, 8}, {"Res", "res", 8, 4}, {"Flags", "flags", 12, 4},
	}},
	{reflect.TypeFor[IoUringParams](), "io_uring_params", 120, []fieldWant{
		{"SqEntries", "sq_entries", 0, 4}, {"CqEntries", "cq_entries", 4, 4},
		{"Flags", "flags", 8, 4}, {"SqThreadCpu", "sq_thread_cpu", 12, 4},
		{"SqThreadIdle", "sq_thread_idle", 16, 4}, {"Features", "features", 20, 4},
		{"WqFd", "wq_fd", 24, 4}, {"Resv", "resv", 28, 12},
		{"SqOff", "sq_off", 40, 40}, {"CqOff", "cq_off", 80, 40},
	}},
	{reflect.TypeFor[IoSqringOffsets](), "io_sqring_offsets", 40, []fieldWant{
		{"Head", "head", 0, 4}, {"Tail", "tail", 4, 4}, {"RingMask", "ring_mask", 8, 4},
		{"RingEntries", "ring_entries", 12, 4}, {"Flags", "flags", 16, 4},
		{"Dropped", "dropped", 20, 4}, {"Array", "array", 24, 4}, {"Resv1", "resv1", 28, 4},
		{"UserAddr", "user_addr", 32, 8},
	}},
	{reflect.TypeFor[IoCqringOffsets](), "io_cqring_offsets", 40, []fieldWant{
		{"Head", "head", 0, 4}, {"Tail", "tail", 4, 4}, {"RingMask", "ring_mask", 8, 4},
		{"RingEntries", "ring_entries", 12, 4}, {"Overflow", "overflow", 16, 4},
		{"Cqes", "cqes", 20, 4}, {"Flags", "flags", 24, 4}, {"Resv1", "resv1", 28, 4},
		{"UserAddr", "user_addr", 32, 8},
	}},
	{reflect.TypeFor[IoUringGeteventsArg](), "io_uring_getevents_arg", 24, []fieldWant{
		{"Sigmask", "sigmask", 0, 8}, {"SigmaskSz", "sigmask_sz", 8, 4},
		{"MinWaitUsec", "min_wait_usec", 12, 4}, {"Ts", "ts", 16, 8},
	}},
	{reflect.TypeFor[IoUringProbeOp](), "io_uring_probe_op", 8, []fieldWant{
		{"Op", "op", 0, 1}, {"Flags", "flags", 2, 2},
	}},
	// The kernel struct ends in a flexible array; ours has 256 entries.
	{reflect.TypeFor[IoUringProbe](), "io_uring_probe", SizeofIoUringProbe, []fieldWant{
		{"LastOp", "last_op", 0, 1}, {"OpsLen", "ops_len", 1, 1}, {"Ops", "ops", 16, 256 * 8},
	}},
	{reflect.TypeFor[IoUringBuf](), "io_uring_buf", 16, []fieldWant{
		{"Addr", "addr", 0, 8}, {"Len", "len", 8, 4}, {"Bid", "bid", 12, 2},
	}},
	{reflect.TypeFor[IoUringBufReg](), "io_uring_buf_reg", 40, []fieldWant{
		{"RingAddr", "ring_addr", 0, 8}, {"RingEntries", "ring_entries", 8, 4},
		{"Bgid", "bgid", 12, 2}, {"Flags", "flags", 14, 2}, {"MinLeft", "min_left", 16, 4},
	}},
}

func TestIoUringLayout(t *testing.T) {
	for _, l := range ioUringLayouts {
		if l.typ.Size() != l.size {
			t.Errorf("%s is %d bytes, struct %s is %d", l.typ.Name(), l.typ.Size(), l.kernel, l.size)
		}
		for _, f := range l.fields {
			sf, ok := l.typ.FieldByName(f.field)
			if !ok {
				t.Errorf("%s has no field %s", l.typ.Name(), f.field)
				continue
			}
			size := sf.Type.Size()
			if f.kernel == "ops" {
				size = f.size // the flexible array: checked by the struct size
			}
			if sf.Offset != f.off || size != f.size {
				t.Errorf("%s.%s at %d size %d; %s.%s is at %d size %d", l.typ.Name(), f.field, sf.Offset, size, l.kernel, f.kernel, f.off, f.size)
			}
		}
	}
	sizes := []struct {
		name      string
		got, want uintptr
	}{
		{"SizeofIoUringSqe", SizeofIoUringSqe, unsafe.Sizeof(IoUringSqe{})},
		{"SizeofIoUringCqe", SizeofIoUringCqe, unsafe.Sizeof(IoUringCqe{})},
		{"SizeofIoUringParams", SizeofIoUringParams, unsafe.Sizeof(IoUringParams{})},
		{"SizeofIoUringGeteventsArg", SizeofIoUringGeteventsArg, unsafe.Sizeof(IoUringGeteventsArg{})},
		{"SizeofIoUringProbeOp", SizeofIoUringProbeOp, unsafe.Sizeof(IoUringProbeOp{})},
		{"SizeofIoUringProbe", SizeofIoUringProbe, unsafe.Sizeof(IoUringProbe{})},
		{"SizeofIoUringBuf", SizeofIoUringBuf, unsafe.Sizeof(IoUringBuf{})},
		{"SizeofIoUringBufReg", SizeofIoUringBufReg, unsafe.Sizeof(IoUringBufReg{})},
		{"Timespec (__kernel_timespec)", 16, unsafe.Sizeof(Timespec{})},
	}
	for _, s := range sizes {
		if s.got != s.want {
			t.Errorf("%s = %d, the type is %d bytes", s.name, s.got, s.want)
		}
	}
	// io_uring_buf_ring's tail overlays entry 0's resv: offset 14.
	if off := unsafe.Offsetof(IoUringBuf{}.Bid) + 2; off != 14 {
		t.Errorf("buf ring tail would be at %d, the kernel's is at 14", off)
	}
	// poll32_events: on little-endian the 16-bit poll_events is its low half.
	var s IoUringSqe
	s.OpFlags = 0x00012001
	if lo := *(*uint16)(unsafe.Pointer(uintptr(unsafe.Pointer(&s)) + 28)); lo != 0x2001 {
		t.Errorf("poll_events view of OpFlags %#x is %#x", s.OpFlags, lo)
	}
}

// ioUringConsts pairs each constant with the value in the header.
var ioUringConsts = []struct {
	name       string
	ours, want int64
}{
	{"IORING_SETUP_IOPOLL", IORING_SETUP_IOPOLL, 1 << 0},
	{"IORING_SETUP_SQPOLL", IORING_SETUP_SQPOLL, 1 << 1},
	{"IORING_SETUP_SQ_AFF", IORING_SETUP_SQ_AFF, 1 << 2},
	{"IORING_SETUP_CQSIZE", IORING_SETUP_CQSIZE, 1 << 3},
	{"IORING_SETUP_CLAMP", IORING_SETUP_CLAMP, 1 << 4},
	{"IORING_SETUP_ATTACH_WQ", IORING_SETUP_ATTACH_WQ, 1 << 5},
	{"IORING_SETUP_R_DISABLED", IORING_SETUP_R_DISABLED, 1 << 6},
	{"IORING_SETUP_SUBMIT_ALL", IORING_SETUP_SUBMIT_ALL, 1 << 7},
	{"IORING_SETUP_COOP_TASKRUN", IORING_SETUP_COOP_TASKRUN, 1 << 8},
	{"IORING_SETUP_TASKRUN_FLAG", IORING_SETUP_TASKRUN_FLAG, 1 << 9},
	{"IORING_SETUP_SQE128", IORING_SETUP_SQE128, 1 << 10},
	{"IORING_SETUP_CQE32", IORING_SETUP_CQE32, 1 << 11},
	{"IORING_SETUP_SINGLE_ISSUER", IORING_SETUP_SINGLE_ISSUER, 1 << 12},
	{"IORING_SETUP_DEFER_TASKRUN", IORING_SETUP_DEFER_TASKRUN, 1 << 13},
	{"IORING_SETUP_NO_MMAP", IORING_SETUP_NO_MMAP, 1 << 14},
	{"IORING_SETUP_REGISTERED_FD_ONLY", IORING_SETUP_REGISTERED_FD_ONLY, 1 << 15},
	{"IORING_SETUP_NO_SQARRAY", IORING_SETUP_NO_SQARRAY, 1 << 16},

	{"IORING_OP_NOP", IORING_OP_NOP, 0},
	{"IORING_OP_READV", IORING_OP_READV, 1},
	{"IORING_OP_WRITEV", IORING_OP_WRITEV, 2},
	{"IORING_OP_POLL_ADD", IORING_OP_POLL_ADD, 6},
	{"IORING_OP_POLL_REMOVE", IORING_OP_POLL_REMOVE, 7},
	{"IORING_OP_SENDMSG", IORING_OP_SENDMSG, 9},
	{"IORING_OP_RECVMSG", IORING_OP_RECVMSG, 10},
	{"IORING_OP_TIMEOUT", IORING_OP_TIMEOUT, 11},
	{"IORING_OP_TIMEOUT_REMOVE", IORING_OP_TIMEOUT_REMOVE, 12},
	{"IORING_OP_ACCEPT", IORING_OP_ACCEPT, 13},
	{"IORING_OP_ASYNC_CANCEL", IORING_OP_ASYNC_CANCEL, 14},
	{"IORING_OP_LINK_TIMEOUT", IORING_OP_LINK_TIMEOUT, 15},
	{"IORING_OP_CONNECT", IORING_OP_CONNECT, 16},
	{"IORING_OP_CLOSE", IORING_OP_CLOSE, 19},
	{"IORING_OP_READ", IORING_OP_READ, 22},
	{"IORING_OP_WRITE", IORING_OP_WRITE, 23},
	{"IORING_OP_SEND", IORING_OP_SEND, 26},
	{"IORING_OP_RECV", IORING_OP_RECV, 27},
	{"IORING_OP_PROVIDE_BUFFERS", IORING_OP_PROVIDE_BUFFERS, 31},
	{"IORING_OP_REMOVE_BUFFERS", IORING_OP_REMOVE_BUFFERS, 32},
	{"IORING_OP_SHUTDOWN", IORING_OP_SHUTDOWN, 34},
	{"IORING_OP_MSG_RING", IORING_OP_MSG_RING, 40},
	{"IORING_OP_SOCKET", IORING_OP_SOCKET, 45},
	{"IORING_OP_SEND_ZC", IORING_OP_SEND_ZC, 47},
	{"IORING_OP_SENDMSG_ZC", IORING_OP_SENDMSG_ZC, 48},
	{"IORING_OP_READ_MULTISHOT", IORING_OP_READ_MULTISHOT, 49},
	{"IORING_OP_BIND", IORING_OP_BIND, 56},
	{"IORING_OP_LISTEN", IORING_OP_LISTEN, 57},

	{"IOSQE_FIXED_FILE", IOSQE_FIXED_FILE, 1 << 0},
	{"IOSQE_IO_DRAIN", IOSQE_IO_DRAIN, 1 << 1},
	{"IOSQE_IO_LINK", IOSQE_IO_LINK, 1 << 2},
	{"IOSQE_IO_HARDLINK", IOSQE_IO_HARDLINK, 1 << 3},
	{"IOSQE_ASYNC", IOSQE_ASYNC, 1 << 4},
	{"IOSQE_BUFFER_SELECT", IOSQE_BUFFER_SELECT, 1 << 5},
	{"IOSQE_CQE_SKIP_SUCCESS", IOSQE_CQE_SKIP_SUCCESS, 1 << 6},

	{"IORING_POLL_ADD_MULTI", IORING_POLL_ADD_MULTI, 1 << 0},
	{"IORING_POLL_UPDATE_EVENTS", IORING_POLL_UPDATE_EVENTS, 1 << 1},
	{"IORING_POLL_UPDATE_USER_DATA", IORING_POLL_UPDATE_USER_DATA, 1 << 2},
	{"IORING_POLL_ADD_LEVEL", IORING_POLL_ADD_LEVEL, 1 << 3},
	{"IORING_ASYNC_CANCEL_ALL", IORING_ASYNC_CANCEL_ALL, 1 << 0},
	{"IORING_ASYNC_CANCEL_FD", IORING_ASYNC_CANCEL_FD, 1 << 1},
	{"IORING_ASYNC_CANCEL_ANY", IORING_ASYNC_CANCEL_ANY, 1 << 2},
	{"IORING_ASYNC_CANCEL_FD_FIXED", IORING_ASYNC_CANCEL_FD_FIXED, 1 << 3},
	{"IORING_ASYNC_CANCEL_USERDATA", IORING_ASYNC_CANCEL_USERDATA, 1 << 4},
	{"IORING_ASYNC_CANCEL_OP", IORING_ASYNC_CANCEL_OP, 1 << 5},
	{"IORING_RECVSEND_POLL_FIRST", IORING_RECVSEND_POLL_FIRST, 1 << 0},
	{"IORING_RECV_MULTISHOT", IORING_RECV_MULTISHOT, 1 << 1},
	{"IORING_RECVSEND_FIXED_BUF", IORING_RECVSEND_FIXED_BUF, 1 << 2},
	{"IORING_RECVSEND_BUNDLE", IORING_RECVSEND_BUNDLE, 1 << 4},

	{"IORING_CQE_F_BUFFER", IORING_CQE_F_BUFFER, 1 << 0},
	{"IORING_CQE_F_MORE", IORING_CQE_F_MORE, 1 << 1},
	{"IORING_CQE_F_SOCK_NONEMPTY", IORING_CQE_F_SOCK_NONEMPTY, 1 << 2},
	{"IORING_CQE_F_NOTIF", IORING_CQE_F_NOTIF, 1 << 3},
	{"IORING_CQE_F_BUF_MORE", IORING_CQE_F_BUF_MORE, 1 << 4},
	{"IORING_CQE_BUFFER_SHIFT", IORING_CQE_BUFFER_SHIFT, 16},

	{"IORING_OFF_SQ_RING", IORING_OFF_SQ_RING, 0},
	{"IORING_OFF_CQ_RING", IORING_OFF_CQ_RING, 0x8000000},
	{"IORING_OFF_SQES", IORING_OFF_SQES, 0x10000000},
	{"IORING_OFF_PBUF_RING", IORING_OFF_PBUF_RING, 0x80000000},
	{"IORING_OFF_PBUF_SHIFT", IORING_OFF_PBUF_SHIFT, 16},

	{"IORING_SQ_NEED_WAKEUP", IORING_SQ_NEED_WAKEUP, 1 << 0},
	{"IORING_SQ_CQ_OVERFLOW", IORING_SQ_CQ_OVERFLOW, 1 << 1},
	{"IORING_SQ_TASKRUN", IORING_SQ_TASKRUN, 1 << 2},
	{"IORING_CQ_EVENTFD_DISABLED", IORING_CQ_EVENTFD_DISABLED, 1 << 0},

	{"IORING_ENTER_GETEVENTS", IORING_ENTER_GETEVENTS, 1 << 0},
	{"IORING_ENTER_SQ_WAKEUP", IORING_ENTER_SQ_WAKEUP, 1 << 1},
	{"IORING_ENTER_SQ_WAIT", IORING_ENTER_SQ_WAIT, 1 << 2},
	{"IORING_ENTER_EXT_ARG", IORING_ENTER_EXT_ARG, 1 << 3},
	{"IORING_ENTER_REGISTERED_RING", IORING_ENTER_REGISTERED_RING, 1 << 4},
	{"IORING_ENTER_ABS_TIMER", IORING_ENTER_ABS_TIMER, 1 << 5},

	{"IORING_FEAT_SINGLE_MMAP", IORING_FEAT_SINGLE_MMAP, 1 << 0},
	{"IORING_FEAT_NODROP", IORING_FEAT_NODROP, 1 << 1},
	{"IORING_FEAT_SUBMIT_STABLE", IORING_FEAT_SUBMIT_STABLE, 1 << 2},
	{"IORING_FEAT_RW_CUR_POS", IORING_FEAT_RW_CUR_POS, 1 << 3},
	{"IORING_FEAT_CUR_PERSONALITY", IORING_FEAT_CUR_PERSONALITY, 1 << 4},
	{"IORING_FEAT_FAST_POLL", IORING_FEAT_FAST_POLL, 1 << 5},
	{"IORING_FEAT_POLL_32BITS", IORING_FEAT_POLL_32BITS, 1 << 6},
	{"IORING_FEAT_SQPOLL_NONFIXED", IORING_FEAT_SQPOLL_NONFIXED, 1 << 7},
	{"IORING_FEAT_EXT_ARG", IORING_FEAT_EXT_ARG, 1 << 8},
	{"IORING_FEAT_NATIVE_WORKERS", IORING_FEAT_NATIVE_WORKERS, 1 << 9},
	{"IORING_FEAT_RSRC_TAGS", IORING_FEAT_RSRC_TAGS, 1 << 10},
	{"IORING_FEAT_CQE_SKIP", IORING_FEAT_CQE_SKIP, 1 << 11},
	{"IORING_FEAT_LINKED_FILE", IORING_FEAT_LINKED_FILE, 1 << 12},
	{"IORING_FEAT_REG_REG_RING", IORING_FEAT_REG_REG_RING, 1 << 13},
	{"IORING_FEAT_RECVSEND_BUNDLE", IORING_FEAT_RECVSEND_BUNDLE, 1 << 14},
	{"IORING_FEAT_MIN_TIMEOUT", IORING_FEAT_MIN_TIMEOUT, 1 << 15},

	{"IORING_REGISTER_BUFFERS", IORING_REGISTER_BUFFERS, 0},
	{"IORING_UNREGISTER_BUFFERS", IORING_UNREGISTER_BUFFERS, 1},
	{"IORING_REGISTER_FILES", IORING_REGISTER_FILES, 2},
	{"IORING_UNREGISTER_FILES", IORING_UNREGISTER_FILES, 3},
	{"IORING_REGISTER_EVENTFD", IORING_REGISTER_EVENTFD, 4},
	{"IORING_UNREGISTER_EVENTFD", IORING_UNREGISTER_EVENTFD, 5},
	{"IORING_REGISTER_PROBE", IORING_REGISTER_PROBE, 8},
	{"IORING_REGISTER_ENABLE_RINGS", IORING_REGISTER_ENABLE_RINGS, 12},
	{"IORING_REGISTER_RING_FDS", IORING_REGISTER_RING_FDS, 20},
	{"IORING_UNREGISTER_RING_FDS", IORING_UNREGISTER_RING_FDS, 21},
	{"IORING_REGISTER_PBUF_RING", IORING_REGISTER_PBUF_RING, 22},
	{"IORING_UNREGISTER_PBUF_RING", IORING_UNREGISTER_PBUF_RING, 23},
	{"IORING_REGISTER_SYNC_CANCEL", IORING_REGISTER_SYNC_CANCEL, 24},
	{"IORING_REGISTER_PBUF_STATUS", IORING_REGISTER_PBUF_STATUS, 26},
	{"IORING_REGISTER_NAPI", IORING_REGISTER_NAPI, 27},
	{"IORING_UNREGISTER_NAPI", IORING_UNREGISTER_NAPI, 28},
	{"IORING_REGISTER_RESIZE_RINGS", IORING_REGISTER_RESIZE_RINGS, 33},
	{"IORING_REGISTER_USE_REGISTERED_RING", IORING_REGISTER_USE_REGISTERED_RING, 1 << 31},
	{"IOU_PBUF_RING_MMAP", IOU_PBUF_RING_MMAP, 1},
	{"IOU_PBUF_RING_INC", IOU_PBUF_RING_INC, 2},
	{"IO_URING_OP_SUPPORTED", IO_URING_OP_SUPPORTED, 1 << 0},
}

func TestIoUringConstants(t *testing.T) {
	for _, c := range ioUringConsts {
		if c.ours != c.want {
			t.Errorf("%s = %#x, include/uapi/linux/io_uring.h has %#x", c.name, c.ours, c.want)
		}
	}
	// What x/sys has: the system call numbers and the poll bits.
	xsys := []struct {
		name       string
		ours, xsys int64
	}{
		{"POLLIN", POLLIN, unix.POLLIN}, {"POLLOUT", POLLOUT, unix.POLLOUT},
		{"POLLRDHUP", POLLRDHUP, unix.POLLRDHUP},
	}
	for _, c := range xsys {
		if c.ours != c.xsys {
			t.Errorf("%s = %#x, x/sys has %#x", c.name, c.ours, c.xsys)
		}
	}
	// The stubs' numbers are #defines in the assembly: read both files
	// and compare them with x/sys (the same on every architecture,
	// include/uapi/asm-generic/unistd.h).
	want := map[string]int64{
		"io_uring_setup": unix.SYS_IO_URING_SETUP, "io_uring_enter": unix.SYS_IO_URING_ENTER,
		"io_uring_register": unix.SYS_IO_URING_REGISTER,
	}
	def := regexp.MustCompile(`(?m)^#define\s+SYS_(io_uring_\w+)\s+(\d+)`)
	for _, file := range []string{"uring_linux_amd64.s", "uring_linux_arm64.s"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, m := range def.FindAllStringSubmatch(string(src), -1) {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			if w, ok := want[m[1]]; !ok || n != w {
				t.Errorf("%s: SYS_%s = %d, x/sys has %d", file, m[1], n, w)
			}
			found++
		}
		if found != len(want) {
			t.Errorf("%s: %d io_uring system call numbers, want %d", file, found, len(want))
		}
	}
}

// TestIoUringLayoutBTF checks the layouts and enum values against the
// running kernel's BTF, the type information it was built with.
func TestIoUringLayoutBTF(t *testing.T) {
	b, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		t.Skipf("SKIP: no kernel BTF to check the io_uring layouts against (%v); TestIoUringLayout checked them against the header", err)
	}
	btf, err := parseBTF(b)
	if err != nil {
		t.Fatalf("/sys/kernel/btf/vmlinux: %v", err)
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	t.Logf("checking against the BTF of Linux %s", unix.ByteSliceToString(uts.Release[:]))
	for _, l := range ioUringLayouts {
		st, ok := btf.structs[l.kernel]
		if !ok {
			t.Errorf("struct %s not in BTF", l.kernel)
			continue
		}
		if l.kernel != "io_uring_probe" && uintptr(st.size) != l.size {
			t.Errorf("struct %s is %d bytes in BTF, %s %d", l.kernel, st.size, l.typ.Name(), l.size)
		}
		for _, f := range l.fields {
			m, ok := st.members[f.kernel]
			if !ok {
				t.Errorf("struct %s has no member %s in BTF", l.kernel, f.kernel)
				continue
			}
			if uintptr(m.off) != f.off || (m.size != 0 && uintptr(m.size) != f.size) {
				t.Errorf("%s.%s: BTF offset %d size %d, want %d size %d", l.kernel, f.kernel, m.off, m.size, f.off, f.size)
			}
		}
	}
	checked := 0
	for _, c := range ioUringConsts {
		v, ok := btf.enums[c.name]
		if !ok {
			continue // a #define: not in BTF
		}
		checked++
		if v != c.want {
			t.Errorf("%s is %#x in the kernel's BTF, %#x here", c.name, v, c.want)
		}
	}
	if checked < 40 {
		t.Errorf("only %d enum constants found in BTF", checked)
	}
}

type btfMember struct{ off, size uint32 } // bytes; size 0 when not an integer or struct
type btfStruct struct {
	size    uint32
	members map[string]btfMember // named members, anonymous unions flattened
}
type btfInfo struct {
	structs map[string]btfStruct
	enums   map[string]int64
}

// parseBTF reads the type section of a BTF blob
// (Documentation/bpf/btf.rst): every struct and union with its members'
// byte offsets, and every enumerator.
func parseBTF(b []byte) (*btfInfo, error) {
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint16(b) != 0xeb9f {
		return nil, errors.New("not little-endian BTF")
	}
	hdr := le.Uint32(b[4:])
	typeOff, typeLen, strOff := le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:])
	tb := b[hdr+typeOff : hdr+typeOff+typeLen]
	sb := b[hdr+strOff:]
	str := func(o uint32) string {
		e := o
		for e < uint32(len(sb)) && sb[e] != 0 {
			e++
		}
		return string(sb[o:e])
	}
	type rawType struct {
		name       string
		kind, vlen int
		sizeOrType uint32
		members    [][3]uint32 // name, type, bit offset
	}
	types := []rawType{{}} // type 0 is void
	info := &btfInfo{structs: map[string]btfStruct{}, enums: map[string]int64{}}
	for p := 0; p+12 <= len(tb); {
		nameOff, inf, st := le.Uint32(tb[p:]), le.Uint32(tb[p+4:]), le.Uint32(tb[p+8:])
		p += 12
		t := rawType{name: str(nameOff), kind: int(inf>>24) & 0x1f, vlen: int(inf & 0xffff), sizeOrType: st}
		switch t.kind {
		case 1, 14, 17: // int, var, decl_tag
			p += 4
		case 3: // array
			p += 12
		case 4, 5: // struct, union
			for range t.vlen {
				t.members = append(t.members, [3]uint32{le.Uint32(tb[p:]), le.Uint32(tb[p+4:]), le.Uint32(tb[p+8:])})
				p += 12
			}
		case 6: // enum; kind_flag (bit 31) set means signed values
			for range t.vlen {
				v := int64(le.Uint32(tb[p+4:]))
				if inf>>31 != 0 {
					v = int64(int32(v))
				}
				info.enums[str(le.Uint32(tb[p:]))] = v
				p += 8
			}
		case 13: // func_proto
			p += 8 * t.vlen
		case 15: // datasec
			p += 12 * t.vlen
		case 19: // enum64
			for range t.vlen {
				info.enums[str(le.Uint32(tb[p:]))] = int64(uint64(le.Uint32(tb[p+4:])) | uint64(le.Uint32(tb[p+8:]))<<32)
				p += 12
			}
		}
		types = append(types, t)
	}
	resolve := func(id uint32) rawType {
		for range 16 { // typedef, volatile, const, restrict, type_tag
			t := types[id]
			if t.kind != 8 && t.kind != 9 && t.kind != 10 && t.kind != 11 && t.kind != 18 {
				return t
			}
			id = t.sizeOrType
		}
		return rawType{}
	}
	var flatten func(t rawType, base uint32, into map[string]btfMember)
	flatten = func(t rawType, base uint32, into map[string]btfMember) {
		for _, m := range t.members {
			mt := resolve(m[1])
			off := base + m[2]&0xffffff/8 // the low 24 bits are the bit offset when kind_flag is set
			name := str(m[0])
			if name == "" && (mt.kind == 4 || mt.kind == 5) {
				flatten(mt, off, into)
				continue
			}
			size := uint32(0)
			if mt.kind == 1 || mt.kind == 4 || mt.kind == 5 || mt.kind == 6 {
				size = mt.sizeOrType
			}
			if _, dup := into[name]; !dup {
				into[name] = btfMember{off, size}
			}
		}
	}
	for _, t := range types {
		if t.kind == 4 && t.name != "" {
			if _, dup := info.structs[t.name]; dup {
				continue
			}
			s := btfStruct{size: t.sizeOrType, members: map[string]btfMember{}}
			flatten(t, 0, s.members)
			info.structs[t.name] = s
		}
	}
	return info, nil
}
