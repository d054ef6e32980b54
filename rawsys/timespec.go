package rawsys

// Timespec is the timeout every wait in this package takes: 64-bit seconds
// and nanoseconds. That is struct __kernel_timespec on every Linux
// architecture (epoll_pwait2, ppoll), and struct timespec on the 64-bit
// BSDs and darwin (kevent), whose time_t and long are both 64 bits (the
// 32-bit BSDs, where they are not, are not built).
type Timespec struct {
	Sec  int64
	Nsec int64
}
