//go:build unix && !(linux && (amd64 || arm64))

package selector_test

// newEventfd: no eventfd outside Linux; the fuzzer uses a socketpair.
func newEventfd() (int, bool) { return -1, false }
