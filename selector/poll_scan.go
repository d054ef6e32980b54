//go:build linux && (amd64 || arm64) && rawpoll_forcepoll

package selector

import "github.com/rawpoll/rawpoll/rawsys"

// scanRevents returns the index of the first entry of fds whose revents is
// non-zero, or len(fds). After ppoll returns n, the selector must find the
// n ready entries among all registered ones; this is that O(N) search,
// done with AVX2 or NEON where the CPU has it (simdScan), which skips
// quiet entries a block at a time.
func scanRevents(fds []rawsys.PollFd) int {
	if simdScan {
		return scanReventsSIMD(fds)
	}
	return scanReventsGo(fds)
}

// scanReventsGo is the plain loop: the fallback, and the reference the
// assembly is tested against.
func scanReventsGo(fds []rawsys.PollFd) int {
	for i := range fds {
		if fds[i].Revents != 0 {
			return i
		}
	}
	return len(fds)
}
