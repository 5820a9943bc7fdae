//go:build unix

package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// holdServerEnv makes the test binary, run again by
// TestMemoryPerWaitingConnection, the server that test loads; its value is
// the number of connections to hold.
const holdServerEnv = "TAILGATE_TEST_HOLD_SERVER"

// TestHoldServer is the server of TestMemoryPerWaitingConnection when the
// test binary runs as its helper: it prints its address, answers the first
// request on each connection, reads the second and never answers it,
// prints "held" once that many connections wait, and exits when its
// standard input closes. In a process of its own, its connections' memory
// is not counted as the client's.
func TestHoldServer(t *testing.T) {
	want, err := strconv.Atoi(os.Getenv(holdServerEnv))
	if err != nil {
		t.Skip("the server of TestMemoryPerWaitingConnection, run in a process of its own")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr())
	var held atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				if _, err := readReqHead(br); err != nil {
					return
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				if _, err := readReqHead(br); err != nil {
					return
				}
				if held.Add(1) == int64(want) {
					fmt.Println("held")
				}
				_, _ = io.Copy(io.Discard, br)
			}()
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// connMemory is the heap in use and the goroutine stacks, in bytes, after
// a collection (runtime.GC returns when the sweep is done, so the heap's
// objects are the live ones; it also frees the stacks that goroutines
// which exited left in the runtime's pools).
func connMemory() (heap, stacks int64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
}

// waitingRunMemory runs a closed loop of n VUs on n connections against a
// hold server and returns the heap and stacks it added, measured while
// every VU waits for the response to its second request, less the
// workers' rings of samples (their size is a budget over all workers, not
// a cost per connection; see ringSize). The socket loop records into one
// ring whatever n is.
func waitingRunMemory(t *testing.T, n int, loop bool) (heap, stacks int64) {
	srv := exec.Command(os.Args[0], "-test.run=^TestHoldServer$")
	srv.Env = append(os.Environ(), holdServerEnv+"="+strconv.Itoa(n))
	stdin, err := srv.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = srv.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("the server said no address: %v", lines.Err())
	}
	url := "http://" + lines.Text() + "/"
	held := make(chan bool, 1)
	go func() { held <- lines.Scan() && lines.Text() == "held" }()

	heap0, stacks0 := connMemory()
	ctx, cancel := context.WithCancel(context.Background())
	plan := Plan{
		Name: "hold", Target: url, Load: Load{VUs: n, Connections: n, Duration: time.Hour},
		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: url}}}}},
	}
	r, err := NewRunner(plan)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx)
		ran <- err
	}()
	select {
	case ok := <-held:
		if !ok {
			t.Fatal("the server stopped before holding every connection")
		}
	case err := <-ran:
		t.Fatalf("the run ended before every connection waited: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the connections did not all wait within a minute")
	}
	// The collector drains what it has so far, so the series' histograms
	// exist in every run, whether or not a ring was full enough to wake
	// it (a fixed cost, not one per connection).
	r.Current()
	heap1, stacks1 := connMemory()
	cancel()
	stdin.Close() // the server exits: the waiting requests fail at once
	<-ran
	rings := int64(n) * (int64(ringSize(n))*int64(unsafe.Sizeof(sample{})) + int64(unsafe.Sizeof(sampleBuffer{})))
	if loop {
		rings = 0
	}
	return heap1 - heap0 - rings, stacks1 - stacks0
}

// TestMemoryPerWaitingConnection guards the memory of a connection at
// scale: a closed-loop run on n connections against a server in another
// process, measured when every VU waits for the response to its second
// request, as the connections of a loaded closed-loop run do. The cost of
// a connection is the difference between a run of 1000 connections and one
// of 100, divided by 900, so what a run has whatever its size (the
// recorder's histograms, the transport) cancels out. It is measured on
// both engines. On the goroutine engine, before connections were opened
// off the workers' goroutines (and while beginCall returned its two
// structs) a worker's stack was 8 KiB; with 1 KiB of write buffer and 1
// KiB of read buffer up front, the heap was ~1 KiB more; with a read
// buffer, a cancellation registration, a series map and a dial channel per
// connection, ~1.1 KiB more (3.4–3.8 KiB; 2.4–2.6 without). The socket
// loop keeps a connection in a loopConn and no goroutine. These are counts
// of bytes, not times: the machine's speed changes nothing.
func TestMemoryPerWaitingConnection(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory and larger stacks are not what a run uses")
	}
	if testing.Short() {
		t.Skip("runs 1100 connections to a helper process")
	}
	const small, large = 100, 1000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < large+fdReserve {
		t.Skipf("RLIMIT_NOFILE %d is too low for %d connections", lim.Cur, large)
	}
	for _, tc := range []struct {
		engine                  string
		loop                    bool
		heapBudget, stackBudget int64
	}{
		{"goroutine engine", false, 3584, 6 << 10},
		{"socket loop", true, 768, 256},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			if tc.loop && !socketLoopHere {
				t.Skip("no socket loop on this platform")
			}
			if !tc.loop {
				t.Setenv(socketLoopEnv, "off")
			}
			heapS, stacksS := waitingRunMemory(t, small, tc.loop)
			heapL, stacksL := waitingRunMemory(t, large, tc.loop)
			perHeap := (heapL - heapS) / (large - small)
			perStack := (stacksL - stacksS) / (large - small)
			t.Logf("a waiting connection of a closed-loop run: %d bytes of heap (rings aside) and %d of goroutine stack (budgets %d and %d)",
				perHeap, perStack, tc.heapBudget, tc.stackBudget)
			var failed []string
			if perHeap > tc.heapBudget {
				failed = append(failed, fmt.Sprintf("%d bytes of heap, budget %d", perHeap, tc.heapBudget))
			}
			if perStack > tc.stackBudget {
				failed = append(failed, fmt.Sprintf("%d bytes of goroutine stack, budget %d", perStack, tc.stackBudget))
			}
			if len(failed) > 0 {
				t.Errorf("a waiting connection costs %s", strings.Join(failed, "; "))
			}
		})
	}
}
