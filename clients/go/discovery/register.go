package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	discoveryv1 "grpc-discovery/clients/go/gen/discovery/v1"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// unregisterTimeout bounds Close's Unregister call.
const unregisterTimeout = 2 * time.Second

// RegisterOptions describes the instance and how to keep it registered.
type RegisterOptions struct {
	Service    string
	InstanceID string // empty: the registry assigns one (kept for re-registrations)
	Host       string
	Port       uint32
	Metadata   map[string]string
	TTL        time.Duration // 0: the registry's default
	// Load, when set, is read at every heartbeat: the instance's load from 0 to 1.
	Load    func() float64
	Backoff *Backoff
	// Logf, when set, receives one line per retry or re-registration.
	Logf func(format string, args ...interface{})
}

// Registration is a registered instance kept alive in the background until Close.
type Registration struct {
	client    discoveryv1.DiscoveryServiceClient
	conn      *Conn // the client's nodes when it is a Conn (failover), else nil
	opts      RegisterOptions
	backoff   *Backoff
	stop      context.CancelFunc
	stopped   chan struct{}
	closeOnce sync.Once
	closeErr  error

	mu           sync.Mutex
	instance     *discoveryv1.Instance
	interval     time.Duration
	reRegistered int64
	// brokenInARow counts KeepAlive streams that broke since the last answer:
	// each moves to the next node at once; once every node was tried, backoff.
	brokenInARow int32
}

// Register registers the instance (retrying with backoff while the registry is
// unreachable, until ctx ends) and heartbeats on a KeepAlive stream at the
// interval the registry asks for. When the registry answers NOT_FOUND (it lost
// the lease: expiry, restart) the instance is registered again under its id.
// With a Conn (Dial) over several nodes, a broken stream moves to the next
// node at once, where the first heartbeat takes the lease (cluster mode) or
// gets NOT_FOUND and registers again (a node with a registry of its own).
func Register(ctx context.Context, client discoveryv1.DiscoveryServiceClient, opts RegisterOptions) (*Registration, error) {
	r := &Registration{client: client, conn: connOf(client), opts: opts, backoff: opts.Backoff, stopped: make(chan struct{})}
	if r.backoff == nil {
		r.backoff = DefaultBackoff()
	}
	if err := r.registerWithRetry(ctx); err != nil {
		return nil, err
	}
	loopCtx, stop := context.WithCancel(context.Background())
	r.stop = stop
	go r.run(loopCtx)
	return r, nil
}

// Instance is the instance as the registry last described it.
func (r *Registration) Instance() *discoveryv1.Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.instance
}

// ReRegistrations counts how often the lease was lost and taken again.
func (r *Registration) ReRegistrations() int64 { return atomic.LoadInt64(&r.reRegistered) }

// Close stops heartbeating (half-closing the stream, an orderly goodbye), then
// unregisters with a DRAINING period of drain (0: removed at once) and waits
// for it to pass, so callers can finish in-flight requests meanwhile.
func (r *Registration) Close(drain time.Duration) error {
	r.closeOnce.Do(func() {
		r.stop()
		<-r.stopped
		inst := r.Instance()
		req := &discoveryv1.UnregisterRequest{ServiceName: inst.GetServiceName(), InstanceId: inst.GetInstanceId()}
		if drain > 0 {
			req.Drain = durationpb.New(drain)
		}
		ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
		defer cancel()
		if _, err := r.client.Unregister(ctx, req); err != nil {
			r.closeErr = fmt.Errorf("unregister %s/%s: %w", req.ServiceName, req.InstanceId, err)
			return
		}
		time.Sleep(drain)
	})
	return r.closeErr
}

func (r *Registration) registerWithRetry(ctx context.Context) error {
	for {
		req := &discoveryv1.RegisterRequest{
			ServiceName: r.opts.Service, InstanceId: r.opts.InstanceID, Host: r.opts.Host, Port: r.opts.Port,
			Metadata: r.opts.Metadata, LoadPercentage: r.load(),
		}
		if inst := r.Instance(); inst != nil {
			req.InstanceId = inst.InstanceId
		}
		if r.opts.TTL > 0 {
			req.Ttl = durationpb.New(r.opts.TTL)
		}
		resp, err := r.client.Register(ctx, req)
		if err == nil {
			interval := resp.GetHeartbeatInterval().AsDuration()
			if interval <= 0 {
				interval = time.Second
			}
			r.mu.Lock()
			r.instance, r.interval = resp.Instance, interval
			r.mu.Unlock()
			r.backoff.reset()
			return nil
		}
		if ctx.Err() != nil || permanent(err) {
			return err
		}
		delay := r.backoff.next()
		r.logf("register %s failed (%v); retrying in %v", r.opts.Service, err, delay)
		if !sleep(ctx, delay) {
			return ctx.Err()
		}
	}
}

func (r *Registration) run(ctx context.Context) {
	defer close(r.stopped)
	for ctx.Err() == nil {
		from := r.conn.position()
		err := r.keepAlive(ctx)
		if ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.NotFound {
			r.logf("registry lost the lease of %s/%s; registering again", r.opts.Service, r.Instance().GetInstanceId())
			err = r.registerWithRetry(ctx)
			if err == nil {
				atomic.AddInt64(&r.reRegistered, 1)
				continue
			}
			if ctx.Err() != nil {
				return // Close came while registering again: it unregisters by id
			}
			// Refused for good: the next heartbeat gets NOT_FOUND at once, so wait before it.
			delay := r.backoff.next()
			r.logf("register refused (%v); retrying in %v", err, delay)
			sleep(ctx, delay)
			continue
		}
		// Another registry node may hold up: move there at once, once per node, then back off.
		r.conn.moveOn(from)
		delay := time.Duration(0)
		if int(atomic.AddInt32(&r.brokenInARow, 1)) >= r.conn.size() {
			delay = r.backoff.next()
		}
		if r.conn != nil {
			r.logf("keep-alive broke (%v); retrying on %s in %v", err, r.conn.Current(), delay)
		} else {
			r.logf("keep-alive broke (%v); retrying in %v", err, delay)
		}
		sleep(ctx, delay)
	}
}

// keepAlive heartbeats on one stream until it fails (an error) or ctx ends (nil).
func (r *Registration) keepAlive(ctx context.Context) error {
	// The stream outlives ctx by a moment: on ctx's end we half-close it and
	// let the registry answer, rather than cancelling (which reads as a crash).
	streamCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := r.client.KeepAlive(streamCtx)
	if err != nil {
		return err
	}
	var answered int32 = 1
	received := make(chan error, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				received <- err
				return
			}
			atomic.StoreInt32(&answered, 1)
			atomic.StoreInt32(&r.brokenInARow, 0)
			r.mu.Lock()
			r.instance = resp.Instance
			r.mu.Unlock()
		}
	}()
	for {
		if atomic.SwapInt32(&answered, 0) == 0 {
			return status.Error(codes.Unavailable, "keep-alive got no answer within a heartbeat interval")
		}
		inst := r.Instance()
		if err := stream.Send(&discoveryv1.HeartbeatRequest{ServiceName: inst.ServiceName, InstanceId: inst.InstanceId, LoadPercentage: r.load()}); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		r.mu.Lock()
		interval := r.interval
		r.mu.Unlock()
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			_ = stream.CloseSend()
			select {
			case <-received:
			case <-time.After(time.Second):
			}
			return nil
		case err := <-received:
			timer.Stop()
			if errors.Is(err, io.EOF) {
				return status.Error(codes.Unavailable, "keep-alive stream ended by the registry")
			}
			return err
		case <-timer.C:
			r.backoff.reset()
		}
	}
}

func (r *Registration) load() *float64 {
	if r.opts.Load == nil {
		return nil
	}
	v := r.opts.Load()
	return &v
}

func (r *Registration) logf(format string, args ...interface{}) {
	if r.opts.Logf != nil {
		r.opts.Logf(format, args...)
	}
}
