package loadgen

import (
	"runtime"
	"sync/atomic"
	"time"
)

// sample is one finished request as a worker saw it. Times are offsets from
// the run start so the struct stays small and pointer-free.
type sample struct {
	intended, sent, done time.Duration
	bytesIn, bytesOut    int64
	series               int32
	status               int16
	kind                 ErrorKind
	notSent              NotSentReason // with status statusNotSent
	warmup               bool
	// check is the failed check of a KindCheck sample (checks.go; 0:
	// none).
	check uint16
	// quota is the response's rate-limit limit and remaining, each one
	// more than the value (0: not said); see packQuota.
	quota [2]int32
	flags uint8 // flagRetried, flagAfterRetry
}

// sampleBufferSize is the largest ring a worker records into (64 KiB of
// samples); runs with many workers get smaller rings, see ringSize.
const sampleBufferSize = 1024

// ringBudget bounds the samples buffered over all workers (4 MiB), so a
// closed-model run with thousands of VUs does not hold 64 KiB per VU.
const ringBudget = 1 << 16

// ringFloor is the shortest ring (512 bytes), reached above 8192 workers
// (8 samples from 4097): a worker then wakes the collector every 4
// samples, which at thousands of connections comes seldom (each one
// serves a few requests a second), and the collector drains only the
// rings that woke it (see recorder.dirty). At the former floor of 32 the
// rings were 11 of the ~30 MiB of heap at 5000 connections, and every
// wake-up scanned all 5000 rings.
const ringFloor = 8

// ringSize is the power-of-two ring length for each of workers rings.
func ringSize(workers int) int {
	n := sampleBufferSize
	for n > ringFloor && n*workers > ringBudget {
		n /= 2
	}
	return n
}

// sampleBuffer is a worker's ring of finished samples: a single-producer,
// single-consumer queue. The worker writes slots and publishes them by
// advancing tail; the collector reads up to tail and frees them by
// advancing head. They share nothing else, so recording a sample takes no
// lock and never allocates (the mutex-guarded batches it replaces cost two
// atomic read-modify-writes per sample and allocated a fresh 48 KiB batch
// whenever the collector was behind). Keeping the histograms with the
// collector keeps them single-owner (hdrhistogram-go is not goroutine-safe).
type sampleBuffer struct {
	ring []sample // length is a power of two
	mask uint64
	kick chan<- struct{} // wakes the collector; capacity 1
	// dirty is the recorder's word holding this ring's bit, set before
	// each wake-up so the collector drains this ring and not every one.
	dirty *atomic.Uint64
	bit   uint64
	tail  atomic.Uint64 // next slot to write; stored by the worker only
	_     [56]byte      // head and tail on different cache lines
	head  atomic.Uint64 // next slot to read; stored by the collector only
}

func newSampleBuffer(size int, kick chan<- struct{}, dirty *atomic.Uint64, bit uint64) *sampleBuffer {
	return &sampleBuffer{ring: make([]sample, size), mask: uint64(size - 1), kick: kick, dirty: dirty, bit: bit}
}

// add records one sample. It wakes the collector every half ring, and
// when the ring is full (the collector is behind) yields until it has room
// rather than dropping or allocating.
func (b *sampleBuffer) add(s sample) {
	t := b.tail.Load()
	size := uint64(len(b.ring))
	for spins := 0; t-b.head.Load() >= size; spins++ {
		b.wake()
		if spins < 64 {
			runtime.Gosched()
		} else {
			// The collector is busy for long (a big checkpoint):
			// stop burning the CPU it needs.
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ring[t&b.mask] = s
	b.tail.Store(t + 1)
	if (t+1)&(size/2-1) == 0 {
		b.wake()
	}
}

func (b *sampleBuffer) wake() {
	b.dirty.Or(b.bit)
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// consume hands up to max published samples to f, frees their slots and
// returns how many it handed over: fewer than max means the ring was
// empty. Only the collector calls it.
func (b *sampleBuffer) consume(f func(*sample), max int) int {
	h, t := b.head.Load(), b.tail.Load()
	if t-h > uint64(max) {
		t = h + uint64(max)
	}
	n := int(t - h)
	for ; h != t; h++ {
		f(&b.ring[h&b.mask])
	}
	b.head.Store(t)
	return n
}
