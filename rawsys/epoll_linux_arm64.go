package rawsys

// EpollEvent is struct epoll_event as the arm64 kernel reads and writes it:
// not packed (the packed attribute in include/uapi/linux/eventpoll.h applies
// to __x86_64__ only), 16 bytes, with the 64-bit user data at offset 8.
// TestEpollEventLayout checks size and offsets against x/sys.
type EpollEvent struct {
	events uint32
	_      uint32
	data   uint64
}

// SizeofEpollEvent is the size of one kernel epoll_event on this architecture.
const SizeofEpollEvent = 16

// Events returns the event mask (EPOLLIN, EPOLLOUT, ...).
func (e *EpollEvent) Events() uint32 { return e.events }

// Data returns the 64-bit user data, read in place.
func (e *EpollEvent) Data() uint64 { return e.data }

// Set stores the event mask and the 64-bit user data.
func (e *EpollEvent) Set(events uint32, data uint64) {
	e.events = events
	e.data = data
}
