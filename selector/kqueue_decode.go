package selector

// How a kevent record maps to the Event accessors, as mio maps it
// (src/sys/unix/selector/kqueue.rs). These functions take the OS's
// constants as an argument and compile on every OS, so the golden-buffer
// test decodes darwin and BSD records on Linux through the very code the
// kqueue backend calls.
//
//	IsReadable      filter EVFILT_READ, or EVFILT_USER (a Waker)
//	IsWritable      filter EVFILT_WRITE
//	IsError         EV_ERROR, or EV_EOF with non-zero fflags (the socket error)
//	IsReadClosed    EVFILT_READ with EV_EOF
//	IsWriteClosed   EVFILT_WRITE with EV_EOF
//	IsPriority      never (kqueue has no priority filter)
//	IsAIO, IsLIO    EVFILT_AIO, EVFILT_LIO where the OS has them

import (
	"fmt"

	"github.com/rawpoll/rawpoll/rawsys"
)

func kqIsReadable(c *rawsys.KqConsts, filter int32) bool {
	return filter == c.EVFILT_READ || (c.EVFILT_USER != rawsys.NoFilter && filter == c.EVFILT_USER)
}

func kqIsWritable(c *rawsys.KqConsts, filter int32) bool { return filter == c.EVFILT_WRITE }

func kqIsError(c *rawsys.KqConsts, flags, fflags uint32) bool {
	return flags&c.EV_ERROR != 0 || (flags&c.EV_EOF != 0 && fflags != 0)
}

func kqIsReadClosed(c *rawsys.KqConsts, filter int32, flags uint32) bool {
	return filter == c.EVFILT_READ && flags&c.EV_EOF != 0
}

func kqIsWriteClosed(c *rawsys.KqConsts, filter int32, flags uint32) bool {
	return filter == c.EVFILT_WRITE && flags&c.EV_EOF != 0
}

func kqIsAIO(c *rawsys.KqConsts, filter int32) bool {
	return c.EVFILT_AIO != rawsys.NoFilter && filter == c.EVFILT_AIO
}

func kqIsLIO(c *rawsys.KqConsts, filter int32) bool {
	return c.EVFILT_LIO != rawsys.NoFilter && filter == c.EVFILT_LIO
}

func kqFilterName(c *rawsys.KqConsts, filter int32) string {
	switch filter {
	case c.EVFILT_READ:
		return "EVFILT_READ"
	case c.EVFILT_WRITE:
		return "EVFILT_WRITE"
	case c.EVFILT_AIO:
		return "EVFILT_AIO"
	case c.EVFILT_LIO:
		return "EVFILT_LIO"
	case c.EVFILT_USER:
		return "EVFILT_USER"
	}
	return fmt.Sprint(filter)
}

func kqDetails(c *rawsys.KqConsts, filter int32, flags, fflags uint32, data int64) string {
	names := []flagName{
		{uint64(c.EV_ADD), "EV_ADD"}, {uint64(c.EV_DELETE), "EV_DELETE"}, {uint64(c.EV_ENABLE), "EV_ENABLE"},
		{uint64(c.EV_DISABLE), "EV_DISABLE"}, {uint64(c.EV_ONESHOT), "EV_ONESHOT"}, {uint64(c.EV_CLEAR), "EV_CLEAR"},
		{uint64(c.EV_RECEIPT), "EV_RECEIPT"}, {uint64(c.EV_EOF), "EV_EOF"}, {uint64(c.EV_ERROR), "EV_ERROR"},
	}
	return fmt.Sprintf("Kevent{filter: %s, flags: %s, fflags: %#x, data: %d}", kqFilterName(c, filter), flagNames(uint64(flags), names), fflags, data)
}
