package loadgen

// The raw HTTP/1.1 client's side of followRedirects (redirect.go).

// location implements redirector: the Location the reader kept.
func (c *h1Client) location() []byte { return c.loc }

// redirectHeaders implements redirector.
func (c *h1Client) redirectHeaders() *[]Header { return &c.hdr }

// options implements redirector.
func (c *h1Client) options() *ClientOptions { return &c.t.opts }
