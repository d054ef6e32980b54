//go:build !(linux && (amd64 || arm64)) && !(darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64)))

package selector

// Platforms with neither epoll nor kqueue would take the poll backend, but
// rawsys has ppoll only for Linux so far: there New returns
// ErrUnsupportedPlatform, and the package still builds.
//
// The 32-bit BSDs (freebsd, netbsd and openbsd on 386 and arm) come here
// too: their struct kevent and timespec differ from the 64-bit layouts
// rawsys has (x/sys ztypes_freebsd_386.go: uint32 ident, 56-byte kevent,
// 32-bit tv_sec; arm pads data to 8 bytes), no CI runs them, and a layout
// nobody runs is the mistake rawsys/xsys_crosscheck_test.go exists to
// catch. New says so instead of corrupting memory.
//
// So does Linux on any architecture but amd64 and arm64 (386, arm,
// riscv64, ...): rawsys has its stubs and epoll_event layout for those two
// only. A program that imports rawpoll still builds there, and can fall
// back to package net when New says ErrUnsupportedPlatform; package sock
// has no files there, as on the 32-bit BSDs.

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrUnsupportedPlatform is returned by New where no backend is built yet.
var ErrUnsupportedPlatform = fmt.Errorf("selector: no backend for %s/%s (epoll on Linux, kqueue on darwin and the BSDs: amd64 and arm64 only): %w",
	runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)

type sysEvent struct{ token uint64 }

const maxEvents = 1<<31 - 1

// Selector is unavailable on this platform.
type Selector struct{}

// New returns ErrUnsupportedPlatform; opts are ignored.
func New(opts ...Option) (*Selector, error) { return nil, ErrUnsupportedPlatform }

// Backend returns "none".
func (s *Selector) Backend() string { return "none" }

// Fd returns -1.
func (s *Selector) Fd() int { return -1 }

// Close does nothing.
func (s *Selector) Close() error { return nil }

// TryClone returns ErrClosed.
func (s *Selector) TryClone() (*Selector, error) { return nil, ErrClosed }

// Register returns ErrClosed.
func (s *Selector) Register(fd int, t Token, in Interest) error { return ErrClosed }

// Reregister returns ErrClosed.
func (s *Selector) Reregister(fd int, t Token, in Interest) error { return ErrClosed }

// Deregister returns ErrClosed.
func (s *Selector) Deregister(fd int) error { return ErrClosed }

// WouldBlock returns ErrClosed.
func (s *Selector) WouldBlock(fd int, in Interest) error { return ErrClosed }

// Send returns ErrClosed.
func (s *Selector) Send(fd int, t Token, p []byte) error { return ErrClosed }

// StopRecv returns ErrClosed.
func (s *Selector) StopRecv(fd int) error { return ErrClosed }

// Recv returns ErrClosed.
func (s *Selector) Recv(fd int, t Token) error { return ErrClosed }

// Select returns ErrClosed.
func (s *Selector) Select(ev *Events, timeout time.Duration) error { return ErrClosed }

// SetBusyPoll returns ErrBusyPollUnsupported.
func (s *Selector) SetBusyPoll(usecs uint32, budget uint16, prefer bool) error {
	return ErrBusyPollUnsupported
}

// Waker is unavailable on this platform.
type Waker struct{}

// NewWaker returns ErrUnsupportedPlatform.
func NewWaker(s *Selector, t Token) (*Waker, error) { return nil, ErrUnsupportedPlatform }

// Wake returns ErrClosed.
func (w *Waker) Wake() error { return ErrClosed }

// Close does nothing.
func (w *Waker) Close() error { return nil }

// Token returns the event's token.
func (e *Event) Token() Token { return Token(e.token) }

// IsReadable is false.
func (e *Event) IsReadable() bool { return false }

// IsWritable is false.
func (e *Event) IsWritable() bool { return false }

// IsError is false.
func (e *Event) IsError() bool { return false }

// IsReadClosed is false.
func (e *Event) IsReadClosed() bool { return false }

// IsWriteClosed is false.
func (e *Event) IsWriteClosed() bool { return false }

// IsPriority is false.
func (e *Event) IsPriority() bool { return false }

// IsAIO is false.
func (e *Event) IsAIO() bool { return false }

// IsLIO is false.
func (e *Event) IsLIO() bool { return false }

func (e *Event) details() string { return "none" }
