// Package sock gives a rawpoll event loop its sockets: non-blocking TCP,
// UDP and Unix sockets whose per-message calls go through rawsys's raw
// stubs and allocate nothing, a way in from package net and back, and
// Slab, a generation-tagged table from selector.Token to per-connection
// state. It is what mio::net is to mio.
//
//   - TCP: Listen, Listener.Accept (into caller-owned Conn storage), Dial
//     (non-blocking: FinishConnect on the Writable event), and Conn's
//     Read, Write, Readv, Writev, Shutdown and options.
//   - UDP: ListenUDP, DialUDP; ReadFrom, WriteTo, and ReadBatch and
//     WriteBatch over recvmmsg and sendmmsg with caller-owned Messages.
//   - Unix: ListenUnix, DialUnix, Pair (stream, as Conn), ListenUnixgram,
//     DialUnixgram, PairDatagram; "@name" is the abstract namespace on
//     Linux.
//   - package net: FromNetListener, FromNetConn, FromNetUDPConn, and
//     Conn.NetConn for code that needs a net.Conn.
//
// Addresses are netip.AddrPort values (UnixAddr for Unix datagrams), passed
// and returned by value.
//
// # The event-loop rules
//
// Every backend of package selector is edge-triggered, so a loop that
// gets an event for a socket must:
//
//   - read until a call returns syscall.EAGAIN or comes back short (a
//     stream read that fills less than the buffer means the receive queue
//     is empty), and then call sel.WouldBlock(fd, selector.Readable) (a
//     method of the *selector.Selector the socket is registered with);
//   - write until everything is written, keeping what a partial write or
//     EAGAIN left over and finishing it on the next Writable event, and
//     call sel.WouldBlock(fd, selector.Writable) after the partial write or
//     EAGAIN;
//   - keep reading to EOF when the event reports read-closed or an error:
//     the hang-up is reported once, so a loop that stops at a short read
//     remembers it, also when reading stops first (a blocked write) and
//     resumes on a later event, which need not carry it; a loop that reads
//     on to EAGAIN, as Example's does, reaches EOF by itself;
//   - Deregister a socket before Close.
//
// WouldBlock costs nothing on epoll and kqueue; on the poll backend a
// direction that fired stays silent until WouldBlock re-arms it, so a loop
// that skips it hears nothing more. Each call's doc says which direction
// to re-arm after it returns EAGAIN. errors.Is(err, syscall.EAGAIN) (or
// err == syscall.EAGAIN) tests for it: the per-message calls return the
// syscall.Errno itself, which needs no allocation.
//
// # SIGPIPE
//
// No write of this package raises SIGPIPE: sockets are written with
// sendto and sendmsg with MSG_NOSIGNAL (Linux and the BSDs) or carry
// SO_NOSIGPIPE (darwin), so a write to a connection whose peer is gone
// returns syscall.EPIPE.
//
// # Ownership
//
// A Conn, Listener, UDPConn or UnixgramConn owns its descriptor. Fd is for
// Register and must not be closed. Close is idempotent and may race with
// the other methods: the descriptor is closed when the last call using it
// returns, so no call ever reaches the kernel with a number that was
// closed and may have been reused.
package sock
