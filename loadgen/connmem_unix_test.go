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
	"sync"
	"syscall"
	"testing"
	"time"
)

// holdServerEnv makes the test binary, run again by
// TestMemoryPerWaitingConnection, the server that test loads.
const holdServerEnv = "TAILGATE_TEST_HOLD_SERVER"

// TestHoldServer is the server of TestMemoryPerWaitingConnection when the
// test binary runs as its helper: it prints its address, answers the first
// request on each connection, reads the second and never answers it, and
// exits when its standard input closes. In a process of its own, its
// connections' memory is not counted as the client's.
func TestHoldServer(t *testing.T) {
	if os.Getenv(holdServerEnv) == "" {
		t.Skip("the server of TestMemoryPerWaitingConnection, run in a process of its own")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr())
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
				_, _ = io.Copy(io.Discard, br)
			}()
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// connMemory is the heap in use and the goroutine stacks, in bytes, after
// a collection (runtime.GC returns when the sweep is done, so the heap's
// objects are the live ones).
func connMemory() (heap, stacks uint64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// TestMemoryPerWaitingConnection guards the memory of a connection at
// scale: n HTTP/1.1 clients open their connections as a run does
// (Runner.connect, from a few goroutines), each sends a request from a
// goroutine of its own, as a worker does, and then a second one that waits
// for its response, as every connection of a closed-loop run does. The
// heap they added (after a collection) and their goroutines' stacks,
// divided by n, must stay within budget. Before the connections were
// opened off the workers' goroutines a worker's stack grew to 8 KiB; with
// 1 KiB of write buffer and 1 KiB of read buffer up front, the heap was
// ~3.5 KiB a connection. Both are counts of bytes, not times: the machine's
// speed changes nothing.
func TestMemoryPerWaitingConnection(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory and larger stacks are not what a run uses")
	}
	const (
		heapBudget  = 3 << 10
		stackBudget = 6 << 10
	)
	n := 400
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n)+fdReserve {
		n = int(lim.Cur) - fdReserve
	}
	if n < 100 {
		t.Skipf("RLIMIT_NOFILE %d leaves too few descriptors", lim.Cur)
	}
	srv := exec.Command(os.Args[0], "-test.run=^TestHoldServer$")
	srv.Env = append(os.Environ(), holdServerEnv+"=1")
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
	t.Cleanup(func() {
		stdin.Close()
		_ = srv.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the server said no address: %v", err)
	}
	url := "http://" + addr[:len(addr)-1] + "/"

	tr, err := NewTransport(ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A first client makes what the process makes once (the resolver's
	// state, the poller, pools), so the figures are per connection.
	warm, err := tr.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tdo(warm, context.Background(), "GET", url, nil); err != nil {
		t.Fatal(err)
	}
	heap0, stacks0 := connMemory()
	clients := make([]Client, n)
	for i := range clients {
		if clients[i], err = tr.NewClient(); err != nil {
			t.Fatal(err)
		}
	}
	r := &Runner{plan: Plan{Target: url}}
	r.connect(context.Background(), clients, time.Time{})
	var answered, done sync.WaitGroup
	errs := make(chan error, n)
	for _, c := range clients {
		answered.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, res := &Request{Method: "GET", URL: url}, &Response{}
			err := c.Do(context.Background(), req, res)
			answered.Done()
			if err != nil {
				errs <- err
				return
			}
			*res = Response{}
			_ = c.Do(context.Background(), req, res) // fails when the server exits
		}()
	}
	answered.Wait()
	select {
	case err := <-errs:
		t.Fatalf("first request: %v", err)
	default:
	}
	// The collection also frees the stacks the dialing goroutines left in
	// the runtime's pools. A goroutine already waiting for its response
	// uses more than a quarter of its stack, which a collection leaves
	// whole.
	heap1, stacks1 := connMemory()
	perHeap := (int64(heap1) - int64(heap0)) / int64(n)
	perStack := (int64(stacks1) - int64(stacks0)) / int64(n)
	t.Logf("%d connections, each waiting for a response: %d bytes of heap and %d of goroutine stack a connection (budgets %d and %d)",
		n, perHeap, perStack, heapBudget, stackBudget)
	if perHeap > heapBudget {
		t.Errorf("%d bytes of heap a waiting connection, budget %d", perHeap, heapBudget)
	}
	if perStack > stackBudget {
		t.Errorf("%d bytes of goroutine stack a waiting connection, budget %d", perStack, stackBudget)
	}
	stdin.Close() // the server exits, and the second requests fail
	done.Wait()
	for _, c := range append(clients, warm) {
		_ = c.Close()
	}
	_ = tr.Close()
}
