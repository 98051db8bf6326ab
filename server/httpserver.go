package server

import (
	"io"
	"net"
	"net/http"
	"time"
)

// Limits of the HTTP side. NewHTTPServer and NewHTTPHandler apply them.
const (
	// HTTPReadHeaderTimeout is how long a client may take to send a request's
	// headers; a slower one is disconnected.
	HTTPReadHeaderTimeout = 10 * time.Second
	// HTTPReadTimeout is how long a client may take to send a whole request
	// (the routes take no body, so this is little more than the headers).
	HTTPReadTimeout = 30 * time.Second
	// HTTPWriteTimeout bounds the writing of a response. It is not the
	// http.Server's WriteTimeout, which would cut a long dataset download at
	// a fixed time however fast the client reads: every response gets a
	// write deadline of HTTPWriteTimeout when its handler starts, and a
	// dataset download instead gets one that moves forward as the body is
	// written, so only a download stalled for HTTPWriteTimeout is cut.
	HTTPWriteTimeout = 60 * time.Second
	// HTTPIdleTimeout is how long a keep-alive connection may stay idle
	// between requests.
	HTTPIdleTimeout = 2 * time.Minute
	// HTTPMaxHeaderBytes bounds the request line and headers together; past
	// it the client gets 431 Request Header Fields Too Large.
	HTTPMaxHeaderBytes = 64 << 10
)

// NewHTTPServer returns an http.Server for h (NewHTTPHandler's) with the
// limits above. WriteTimeout is left zero on purpose (see HTTPWriteTimeout):
// the handler sets write deadlines per request. Callers add ErrorLog,
// BaseContext and TLSConfig as they need.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: HTTPReadHeaderTimeout,
		ReadTimeout:       HTTPReadTimeout,
		IdleTimeout:       HTTPIdleTimeout,
		MaxHeaderBytes:    HTTPMaxHeaderBytes,
		// With no WriteTimeout, net/http never moves a connection's write
		// deadline, so the one a handler set would still be there when
		// net/http itself answers the next request on the connection (a 431,
		// say) after a long idle time. Clear it when the connection goes idle.
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateIdle {
				_ = c.SetWriteDeadline(time.Time{})
			}
		},
	}
}

// extendEvery is how often, at most, a download's write deadline is moved
// forward: not on every small write, and still leaving the client nearly
// HTTPWriteTimeout for any one write.
const extendEvery = time.Second

// progressWriter writes a download to w, moving the connection's write
// deadline to HTTPWriteTimeout from now as the body goes out. Errors from
// setting deadlines are ignored: a ResponseWriter that cannot set them
// (httptest's) simply has none.
type progressWriter struct {
	w        io.Writer
	rc       *http.ResponseController
	now      func() time.Time
	extended time.Time
}

func newProgressWriter(w http.ResponseWriter) *progressWriter {
	p := &progressWriter{w: w, rc: http.NewResponseController(w), now: time.Now}
	p.extend()
	return p
}

func (p *progressWriter) extend() {
	now := p.now()
	p.extended = now
	_ = p.rc.SetWriteDeadline(now.Add(HTTPWriteTimeout))
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if p.now().Sub(p.extended) >= extendEvery {
		p.extend()
	}
	return p.w.Write(b)
}
