package discovery

// Conn reaches the registry through one node or several, as the Node SDK's
// failover transport does: a unary call that finds its node UNAVAILABLE moves
// on to the next at once (Register, Heartbeat and Unregister are idempotent,
// reads have no effect); streams stay on the current node, and Register and
// Watch move them on when one breaks. One channel per node, the helper
// choosing: a single channel over every address (pick_first) would move only
// when the connection drops, never when a live node answers UNAVAILABLE (one
// cut off from etcd refuses writes so), and round_robin would spread calls so
// that each heartbeat moves the instance's lease to another node (a write).

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	discoveryv1 "grpc-discovery/clients/go/gen/discovery/v1"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// reconnectBackoff paces each node's channel. grpc-go's default waits up to
// 120 s between connection attempts, so a node that came back would be
// refused for minutes while its channel backs off; ours waits at most 5 s,
// the helpers' own retry ceiling. (The connect timeout is grpc-go's default.)
var reconnectBackoff = grpc.ConnectParams{
	Backoff:           grpcbackoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
	MinConnectTimeout: 20 * time.Second,
}

// Conn is a DiscoveryServiceClient (and a grpc.ClientConnInterface) over one
// registry node or several. Pass it to Register and Watch, which move their
// streams to the next node when one breaks; Close closes every channel.
type Conn struct {
	discoveryv1.DiscoveryServiceClient
	addresses []string
	channels  []*grpc.ClientConn

	mu sync.Mutex
	at int // the node calls and streams use now
}

// Dial opens a channel to every registry address (dialing does not wait for a
// connection). Each entry is host:port or http://host:port, and may itself be
// a comma-separated list, so both []string{"a:3004", "b:3004"} and
// []string{"a:3004,b:3004"} (a REGISTRY variable as it is) name two nodes.
// The options apply to every channel and need the transport security, e.g.
// grpc.WithInsecure() or grpc.WithTransportCredentials(...).
func Dial(addresses []string, opts ...grpc.DialOption) (*Conn, error) {
	list, err := AddressList(addresses)
	if err != nil {
		return nil, err
	}
	c := &Conn{addresses: list}
	// Ours first: an option of the caller's given later wins.
	options := append([]grpc.DialOption{grpc.WithConnectParams(reconnectBackoff)}, opts...)
	for _, address := range list {
		channel, err := grpc.Dial(address, options...)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("dial %s: %w", address, err)
		}
		c.channels = append(c.channels, channel)
	}
	c.DiscoveryServiceClient = discoveryv1.NewDiscoveryServiceClient(c)
	return c, nil
}

// AddressList splits comma-separated entries, trims them, drops blanks and an
// http:// prefix. An https:// address is refused: TLS comes from the dial
// options (with host:port addresses), never from the address.
func AddressList(entries []string) ([]string, error) {
	var list []string
	for _, entry := range entries {
		for _, part := range strings.Split(entry, ",") {
			address := strings.TrimSpace(part)
			switch {
			case address == "":
				continue
			case strings.HasPrefix(address, "https://"):
				return nil, fmt.Errorf("registry address %q: give host:port and TLS credentials in the dial options", address)
			}
			address = strings.TrimSuffix(strings.TrimPrefix(address, "http://"), "/")
			if !strings.Contains(address, ":") || strings.Contains(address, "/") {
				return nil, fmt.Errorf("registry address %q: want host:port", part)
			}
			list = append(list, address)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no registry address given")
	}
	return list, nil
}

// Addresses are the registry nodes, in the order they are tried.
func (c *Conn) Addresses() []string { return append([]string(nil), c.addresses...) }

// Current is the address calls and streams use now.
func (c *Conn) Current() string { return c.addresses[c.position()] }

// Close closes every node's channel; calls in flight fail.
func (c *Conn) Close() error {
	var first error
	for _, channel := range c.channels {
		if err := channel.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Invoke runs a unary call on the current node; UNAVAILABLE moves it on to
// the next, once per node. Any other answer is the registry's.
func (c *Conn) Invoke(ctx context.Context, method string, args, reply interface{}, opts ...grpc.CallOption) error {
	for tried := 1; ; tried++ {
		at := c.position()
		err := c.channels[at].Invoke(ctx, method, args, reply, opts...)
		if err == nil || tried >= len(c.channels) || ctx.Err() != nil || status.Code(err) != codes.Unavailable {
			return err
		}
		c.moveOn(at)
	}
}

// NewStream opens a stream on the current node.
func (c *Conn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.channels[c.position()].NewStream(ctx, desc, method, opts...)
}

// The methods below are nil-safe: a client that is not a Conn is one node.

func (c *Conn) position() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *Conn) size() int {
	if c == nil {
		return 1
	}
	return len(c.channels)
}

func (c *Conn) address() string {
	if c == nil {
		return ""
	}
	return c.Current()
}

// moveOn leaves node `from` for the next, unless someone already did: a
// KeepAlive and a Watch that broke together on one node move once, not twice
// (with two nodes, twice would send them back to the dead one). The next
// node's channel tries to connect at once, even if it was backing off.
func (c *Conn) moveOn(from int) {
	if c == nil || len(c.channels) < 2 {
		return
	}
	c.mu.Lock()
	moved := c.at == from
	if moved {
		c.at = (from + 1) % len(c.channels)
	}
	next := c.channels[c.at]
	c.mu.Unlock()
	if moved {
		next.ResetConnectBackoff()
	}
}

// connOf is the Conn behind a client, or nil (one node, no failover).
func connOf(client discoveryv1.DiscoveryServiceClient) *Conn {
	c, _ := client.(*Conn)
	return c
}
