// Package cachetest helps the tests of the cache backends: a TCP proxy in
// front of a real server, which counts the connections through it and can
// close them or go down.
package cachetest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards the connections it accepts to a server.
type Proxy struct {
	Addr   string // where it listens
	target string
	ln     net.Listener

	mu       sync.Mutex
	accepted int
	conns    map[net.Conn]net.Conn // a client's connection to the proxy, and the proxy's to the server
	down     bool
	wg       sync.WaitGroup
	once     sync.Once
}

// NewProxy starts a proxy to target, which goes down with the test.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]net.Conn{}}
	p.wg.Go(p.serve)
	tb.Cleanup(p.Down)
	return p
}

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			client.Close()
			server.Close()
			continue
		}
		p.accepted++
		p.conns[client] = server
		p.mu.Unlock()
		p.wg.Go(func() {
			io.Copy(server, client)
			server.Close()
			p.mu.Lock()
			delete(p.conns, client)
			p.mu.Unlock()
		})
		p.wg.Go(func() {
			io.Copy(client, server)
			client.Close()
		})
	}
}

// Accepted returns how many connections the proxy has accepted.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// WaitOpen waits until n connections are open through the proxy (it learns
// of a closed one a moment later) and fails the test if that takes more
// than 5 seconds.
func (p *Proxy) WaitOpen(tb testing.TB, n int) {
	tb.Helper()
	open := -1
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		open = len(p.conns)
		p.mu.Unlock()
		if open == n {
			return
		}
	}
	tb.Fatalf("%d connections open through the proxy, want %d", open, n)
}

// Cut closes the connections through the proxy, as a server that restarts
// does, and goes on accepting new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for client, server := range p.conns {
		client.Close()
		server.Close()
	}
}

// Down closes the listener and every connection: the server is down.
func (p *Proxy) Down() {
	p.once.Do(func() {
		p.ln.Close()
		p.mu.Lock()
		p.down = true
		p.mu.Unlock()
		p.Cut()
		p.wg.Wait()
	})
}
