package loadgen

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestReadBufferGrowsAfterALargeResponse checks the lazily sized read
// buffer: a connection starts with the small one, keeps it while responses
// fit, and switches to the large one after a response that did not, with
// every response read whole on the way.
func TestReadBufferGrowsAfterALargeResponse(t *testing.T) {
	small := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	big := strings.Repeat("x", 3*h1FirstReadBuffer)
	large := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(big), big)
	c, _ := pipeClient(t, ClientOptions{}, serveScript(small, small, large, small, large))
	wantSizes := []int{h1FirstReadBuffer, h1FirstReadBuffer, h1ReadBuffer, h1ReadBuffer, h1ReadBuffer}
	wantBytes := []int{len(small), len(small), len(large), len(small), len(large)}
	for i := range wantSizes {
		res, err := tdo(c, context.Background(), "GET", "http://example.test/", nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if res.BytesIn != int64(wantBytes[i]) {
			t.Errorf("request %d: read %d bytes, want %d", i, res.BytesIn, wantBytes[i])
		}
		if got := c.br.Size(); got != wantSizes[i] {
			t.Errorf("after request %d: read buffer %d bytes, want %d", i, got, wantSizes[i])
		}
	}
}
