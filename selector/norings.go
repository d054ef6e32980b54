//go:build !linux || rawpoll_forcepoll

package selector

// Without io_uring there are no ring receives to give back.
type bufLoans struct{}

func (bufLoans) giveBack() {}
