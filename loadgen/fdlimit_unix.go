//go:build unix

package loadgen

import (
	"fmt"
	"syscall"
)

// fdReserve is what a run needs besides its connections: standard streams,
// the poller, the fine timer, the results file and its temporary copy, a
// metrics listener and its scrapers, the terminal, with room to spare.
const fdReserve = 64

// ensureDescriptors makes sure the process may open a descriptor for each
// of conns connections. Go already raises the soft RLIMIT_NOFILE to the hard
// limit when the program starts (package syscall); this raises it again in
// case something lowered it since, and refuses a run that the hard limit
// cannot hold: without the check such a run would fail thousands of dials
// with "too many open files" after its load had begun.
func ensureDescriptors(conns int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // no limit to read: let the dials say what is wrong
	}
	// The fields are uint64 on Linux and int64 on the BSDs, whose
	// RLIM_INFINITY is the largest int64.
	cur, hard := uint64(lim.Cur), uint64(lim.Max)
	need := uint64(conns) + fdReserve
	if cur >= need {
		return nil
	}
	if err := descriptorsFit(conns, need, hard); err != nil {
		return err
	}
	raised := lim
	raised.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		return fmt.Errorf("%d connections need about %d open files; raising the limit from %d to its hard limit %d failed: %w",
			conns, need, lim.Cur, lim.Max, err)
	}
	return nil
}

// descriptorsFit reports whether need descriptors fit under the hard limit
// max, naming the limit when they do not.
func descriptorsFit(conns int, need, max uint64) error {
	if need <= max {
		return nil
	}
	return fmt.Errorf("%d connections need about %d open files, more than this process may open "+
		"(RLIMIT_NOFILE hard limit %d): lower the connections or raise the limit (ulimit -Hn as root, LimitNOFILE= for a service)",
		conns, need, max)
}
