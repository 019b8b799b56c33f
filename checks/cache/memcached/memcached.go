// Package memcached is the memcached backend of checks/cache, over
// gomemcache: the check opens a client to the servers of a
// memcached://host[:11211][,host2[:11211]…] URL for each run and closes it
// afterwards, or keeps it between runs (cache.Config.ConnMaxAge) with a
// connection to each server a key went to. Names are resolved when the
// client is opened. gomemcache has no context API, so every operation's
// socket timeout, and a connect's, is the time left until the deadline of
// the run's context.
package memcached

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/healthjob/healthjob/checks/cache"
)

// DefaultPort is memcached's port, for a server named without one.
const DefaultPort = "11211"

// Backend is one or more memcached servers, keys spread over them as
// gomemcache does.
type Backend struct {
	servers []string
}

var _ cache.Backend = (*Backend)(nil)

// New returns the Backend of a memcached:// URL, or an error when it does not
// name servers. Names are resolved on each run, so that a name that does not
// resolve yet fails the check, not the configuration.
func New(rawURL string) (*Backend, error) {
	list, ok := strings.CutPrefix(rawURL, "memcached://")
	list = strings.TrimSuffix(list, "/")
	if !ok || list == "" || strings.ContainsAny(list, "/?#@") {
		return nil, errors.New("url: want memcached://host[:11211][,host2[:11211]…]")
	}
	b := &Backend{}
	for _, s := range strings.Split(list, ",") {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), DefaultPort
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil || host == "" {
			return nil, fmt.Errorf("url: server %q: want host or host:port", s)
		}
		b.servers = append(b.servers, net.JoinHostPort(host, port))
	}
	return b, nil
}

// Open returns a client of the servers, which connects within the context
// of the operation that needs a connection.
func (b *Backend) Open(ctx context.Context) (cache.Conn, error) {
	// gomemcache resolves names without a context: resolve them here, within ctx.
	addrs := make([]string, len(b.servers))
	for i, s := range b.servers {
		host, port, _ := net.SplitHostPort(s)
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		addrs[i] = net.JoinHostPort(ips[0].String(), port)
	}
	servers := new(memcache.ServerList)
	if err := servers.SetServers(addrs...); err != nil {
		return nil, err
	}
	c := &conn{c: memcache.NewFromSelector(servers), ctx: ctx}
	c.c.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) {
		nc, err := new(net.Dialer).DialContext(c.ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// gomemcache sets the socket's deadline Timeout after the dial: count it from now.
		if err := c.within(c.ctx); err != nil {
			nc.Close()
			return nil, err
		}
		return nc, nil
	}
	return c, nil
}

// conn is a client, used by one run at a time.
type conn struct {
	c   *memcache.Client
	ctx context.Context // the context of the operation under way, for its dial
}

// within sets the client's socket timeout to the time left until ctx's
// deadline (gomemcache's default without one), for the operation that
// follows.
func (c *conn) within(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.ctx = ctx
	c.c.Timeout = 0 // gomemcache's default
	if deadline, ok := ctx.Deadline(); ok {
		c.c.Timeout = max(time.Until(deadline), time.Nanosecond)
	}
	return nil
}

func (c *conn) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := c.within(ctx); err != nil {
		return err
	}
	return timeout(c.c.Set(&memcache.Item{Key: key, Value: []byte(value), Expiration: int32(ttl / time.Second)}))
}

func (c *conn) Get(ctx context.Context, key string) (string, error) {
	if err := c.within(ctx); err != nil {
		return "", err
	}
	item, err := c.c.Get(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return "", nil
	}
	if err != nil {
		return "", timeout(err)
	}
	return string(item.Value), nil
}

func (c *conn) Delete(ctx context.Context, key string) error {
	if err := c.within(ctx); err != nil {
		return err
	}
	if err := c.c.Delete(key); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return timeout(err)
	}
	return nil
}

func (c *conn) Close() error { return c.c.Close() }

// timeout makes gomemcache's connect timeout a timeout error, as a socket's is.
func timeout(err error) error {
	var cte *memcache.ConnectTimeoutError
	if errors.As(err, &cte) {
		return fmt.Errorf("%w: %w", err, os.ErrDeadlineExceeded)
	}
	return err
}
