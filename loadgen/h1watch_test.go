package loadgen

import (
	"context"
	"net"
	"testing"
)

// watchCount returns how many contexts t's clients watch, and how many
// clients watch ctx.
func watchCount(t *h1Transport, ctx context.Context) (contexts, clients int) {
	t.watchMu.Lock()
	defer t.watchMu.Unlock()
	if w := t.watches[ctx.Done()]; w != nil {
		clients = len(w.clients)
	}
	return len(t.watches), clients
}

// TestH1SharedWatch checks that the clients of a transport share one
// registration per context: canceling it ends every request blocked on a
// hanging server, a client moving to another context leaves the old
// registration, and closing the clients drops them all.
func TestH1SharedWatch(t *testing.T) {
	const n = 4
	hung := make(chan struct{}, n)
	release := make(chan struct{})
	srv := newRawServer(t, serveOKOrHang(func(net.Conn) {
		hung <- struct{}{}
		<-release
	}))
	defer close(release)
	first := newTestH1(t, ClientOptions{})
	clients := []*h1Client{first}
	for len(clients) < n {
		c := newH1Client(first.t)
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, n)
	for _, c := range clients {
		go func() {
			_, err := tdo(c, ctx, "GET", srv.URL+"/hang", nil)
			errs <- err
		}()
	}
	for range n {
		<-hung
	}
	if contexts, watching := watchCount(first.t, ctx); contexts != 1 || watching != n {
		t.Fatalf("%d clients blocked: %d contexts watched, %d clients on the run's; want 1 and %d", n, contexts, watching, n)
	}
	cancel()
	for range n {
		wantKind(t, <-errs, KindCanceled)
	}

	// A new context: the clients move to it one by one, and the canceled
	// one's registration is gone.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	for i, c := range clients {
		if _, err := tdo(c, ctx2, "GET", srv.URL+"/ok", nil); err != nil {
			t.Fatalf("client %d after the cancellation: %v", i, err)
		}
		if contexts, watching := watchCount(first.t, ctx2); contexts != 1 || watching != i+1 {
			t.Fatalf("%d clients moved: %d contexts watched, %d on the new one; want 1 and %d", i+1, contexts, watching, i+1)
		}
	}
	for _, c := range clients {
		c.Close()
	}
	if contexts, _ := watchCount(first.t, ctx2); contexts != 0 {
		t.Fatalf("every client closed: %d contexts still watched, want 0", contexts)
	}
}
