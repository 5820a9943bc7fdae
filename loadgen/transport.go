package loadgen

import "fmt"

// NewTransport returns the HTTP transport for the options: the raw
// HTTP/1.1 client by default, the HTTP/2 client (h2.go) when HTTP2 is set.
// Invalid options (an unreadable CA bundle, a bad key pair) are errors
// naming the file.
func NewTransport(o ClientOptions) (Transport, error) {
	if o.FollowRedirects < 0 {
		return nil, fmt.Errorf("follow redirects: %d must not be negative", o.FollowRedirects)
	}
	tlsConf, err := buildTLSConfig(o)
	if err != nil {
		return nil, err
	}
	if o.HTTP2 {
		return newH2Transport(o, tlsConf), nil
	}
	return newH1Transport(o, tlsConf), nil
}
