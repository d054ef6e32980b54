//go:build (linux && (amd64 || arm64)) || darwin || dragonfly || ((freebsd || netbsd || openbsd) && (amd64 || arm64))

package sock

import "github.com/rawpoll/rawpoll/selector"

// SendRing queues p on the connection through sel's io_uring rings
// (selector.Selector.Send): the send goes to the kernel with sel's next
// Select, which then reports its Completion (OpSend, token t, p handed
// back), so an event loop that answers what it has just read makes no
// system call of its own to send it. The kernel owns p until that
// completion; it sends all of p or fails. One send may be in flight per
// connection (a second is EBUSY). Deregister the connection from sel
// before Close: that submits and cancels what is queued for it. On a
// Selector whose backend is not io_uring it returns selector.ErrRingOnly:
// use Write.
func (c *Conn) SendRing(sel *selector.Selector, t selector.Token, p []byte) error {
	if !c.ref.acquire() {
		return ErrClosed
	}
	defer c.ref.release()
	c.noteRing(sel)
	return sel.Send(c.ref.fd, t, p)
}

// RecvRing starts receiving on the connection through sel's io_uring
// rings (selector.Selector.Recv): every chunk that arrives is a Completion
// (OpRecv, token t) whose Buf is lent until the next Select, without a
// read system call; end of file is a completion with Res 0. The
// connection need not be registered for readiness. On a Selector whose
// backend is not io_uring it returns selector.ErrRingOnly: register for
// Readable and Read.
func (c *Conn) RecvRing(sel *selector.Selector, t selector.Token) error {
	if !c.ref.acquire() {
		return ErrClosed
	}
	defer c.ref.release()
	c.noteRing(sel)
	return sel.Recv(c.ref.fd, t)
}

// StopRecvRing stops the connection's RecvRing, for flow control: what
// it has received is still reported, and its last completion has More
// false; RecvRing again after that to resume (selector.Selector.StopRecv).
func (c *Conn) StopRecvRing(sel *selector.Selector) error {
	if !c.ref.acquire() {
		return ErrClosed
	}
	defer c.ref.release()
	return sel.StopRecv(c.ref.fd)
}

// ringSet is the Selectors a connection's ring calls went through, for
// Close; replaced whole (copy on write), so reading it needs no lock.
type ringSet struct{ sels []*selector.Selector }

// noteRing remembers sel for Close, which must end what sel has queued for
// this connection before the descriptor number is released. A Selector
// already noted costs a load and a compare (every SendRing calls this); a
// new one copies the set, once.
func (c *Conn) noteRing(sel *selector.Selector) {
	for {
		old := c.ring.Load()
		var n []*selector.Selector
		if old != nil {
			for _, s := range old.sels {
				if s == sel {
					return
				}
			}
			n = append(n, old.sels...)
		}
		if c.ring.CompareAndSwap(old, &ringSet{sels: append(n, sel)}) {
			return
		}
	}
}
