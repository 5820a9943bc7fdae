package loadgen

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStartAtOpensConnectionsFirst checks that a run waiting for its start
// instant has opened its connections to the target, and sent nothing.
func TestStartAtOpensConnectionsFirst(t *testing.T) {
	var requests, conns atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew && conns.Add(1) == 4 {
			once.Do(func() { close(all) })
		}
	}
	srv.Start()
	defer srv.Close()
	plan := Plan{
		Name: "connect", Target: srv.URL, Load: Load{Pacer: ConstantPacer{PerSecond: 10, Length: time.Second}, Connections: 4},
		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: srv.URL + "/"}}}}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, plan, WithStartAt(time.Now().Add(time.Hour), time.Second))
		done <- err
	}()
	select {
	case <-all:
	case err := <-done:
		t.Fatalf("run ended before connecting: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of 4 connections opened while waiting", conns.Load())
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a run stopped while waiting returned no error")
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests sent before the start instant", n)
	}
}
