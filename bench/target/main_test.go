package main

import (
	"testing"
	"time"
)

func TestStallLeft(t *testing.T) {
	start := time.Unix(1000, 0)
	s := &server{start: start, stallEvery: 5 * time.Second, stallFor: 500 * time.Millisecond}
	ms := time.Millisecond
	tests := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 500 * ms}, // a window opens at the start
		{100 * ms, 400 * ms},
		{600 * ms, 0},
		{5 * time.Second, 500 * ms}, // a window opens
		{5*time.Second + 100*ms, 400 * ms},
		{5*time.Second + 499*ms, 1 * ms},
		{5*time.Second + 500*ms, 0}, // closed
		{9 * time.Second, 0},
		{10*time.Second + 250*ms, 250 * ms},
	}
	for _, tt := range tests {
		if got := s.stallLeft(start.Add(tt.at)); got != tt.want {
			t.Errorf("stallLeft(+%s) = %s, want %s", tt.at, got, tt.want)
		}
	}
	none := &server{start: start}
	if got := none.stallLeft(start.Add(5 * time.Second)); got != 0 {
		t.Errorf("no stall configured: got %s", got)
	}
}
