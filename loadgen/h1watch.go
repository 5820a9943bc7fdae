package loadgen

import "context"

// ctxWatch is one context.AfterFunc registration shared by every client of
// a transport that watches the same context: the engine passes one run
// context to all its workers, and a registration per client (the
// AfterFunc's state, its closure and the parent's entry for it) was ~0.2
// KiB per connection, 1 MiB at 5000. When the context is canceled, fire
// unblocks every client still watching it.
type ctxWatch struct {
	t    *h1Transport
	done <-chan struct{}
	stop func() bool
	// clients holds each watching client's watch generation (see
	// h1Client.onCancel); guarded by t.watchMu, as is fired.
	clients map[*h1Client]uint64
	fired   bool
}

// join adds c, at watch generation gen, to the watch of ctx, registering
// one with ctx if there is none yet.
func (t *h1Transport) join(ctx context.Context, c *h1Client, gen uint64) *ctxWatch {
	done := ctx.Done()
	t.watchMu.Lock()
	defer t.watchMu.Unlock()
	w := t.watches[done]
	if w == nil {
		if t.watches == nil {
			t.watches = make(map[<-chan struct{}]*ctxWatch)
		}
		w = &ctxWatch{t: t, done: done, clients: make(map[*h1Client]uint64)}
		t.watches[done] = w
		// AfterFunc runs fire on a goroutine of its own, even for a
		// context already canceled, so it waits for the lock held here.
		w.stop = context.AfterFunc(ctx, w.fire)
	}
	w.clients[c] = gen
	return w
}

// leave takes c out of w, and drops the registration when no client is
// left in it.
func (t *h1Transport) leave(w *ctxWatch, c *h1Client) {
	t.watchMu.Lock()
	defer t.watchMu.Unlock()
	delete(w.clients, c)
	if len(w.clients) == 0 && !w.fired {
		w.stop()
		if t.watches[w.done] == w {
			delete(t.watches, w.done)
		}
	}
}

// fire runs when w's context is canceled: every client in it is unblocked.
// Clients that watch the context later register again, and AfterFunc
// fires for them at once.
func (w *ctxWatch) fire() {
	t := w.t
	t.watchMu.Lock()
	defer t.watchMu.Unlock()
	w.fired = true
	if t.watches[w.done] == w {
		delete(t.watches, w.done)
	}
	for c, gen := range w.clients {
		c.onCancel(gen)
	}
}
