package rawsys

// EpollEvent is struct epoll_event as the amd64 kernel reads and writes it:
// packed (__attribute__((packed)) under __x86_64__ in
// include/uapi/linux/eventpoll.h), 12 bytes, with the 64-bit user data at
// offset 4. Go cannot declare a packed uint64 there, so the data is held as
// two 32-bit halves (alignment 4, which gives exactly the packed layout);
// TestEpollEventLayout checks size and offsets against x/sys.
type EpollEvent struct {
	events uint32
	data   [2]uint32
}

// SizeofEpollEvent is the size of one kernel epoll_event on this architecture.
const SizeofEpollEvent = 12

// Events returns the event mask (EPOLLIN, EPOLLOUT, ...).
func (e *EpollEvent) Events() uint32 { return e.events }

// Data returns the 64-bit user data, read in place. The compiler combines
// the two halves into a single 8-byte load.
func (e *EpollEvent) Data() uint64 { return uint64(e.data[0]) | uint64(e.data[1])<<32 }

// Set stores the event mask and the 64-bit user data.
func (e *EpollEvent) Set(events uint32, data uint64) {
	e.events = events
	e.data[0] = uint32(data)
	e.data[1] = uint32(data >> 32)
}
