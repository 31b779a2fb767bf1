package discovery

import (
	"context"
	"errors"
	"io"
	"time"

	discoveryv1 "grpc-discovery/clients/go/gen/discovery/v1"
)

// ReconnectResetReason is the reason on a RESET that Watch itself emits when a
// stream broke mid-snapshot: the half snapshot the handler got must be dropped.
const ReconnectResetReason = "reconnected-mid-snapshot"

// WatchOptions selects what to follow and how to reconnect.
type WatchOptions struct {
	Services      []string // empty: every service
	SinceRevision uint64   // resume after this revision (0: start with a snapshot)
	Backoff       *Backoff
	// OnDisconnect, when set, is called each time the stream breaks, before the reconnect.
	OnDisconnect func(error)
	// OnReconnect, when set, is called when a stream opened after a break
	// delivers its first event: the node's address (empty unless the client
	// is a Conn) and the revision it asked to resume after (0: a snapshot).
	OnReconnect func(address string, sinceRevision uint64)
}

// Watch calls handle with every event, in revision order, across reconnects:
// SNAPSHOT..., SYNCED, then live changes; a RESET means "drop what you hold".
// After a break it reconnects and resumes from the last revision the handler
// fully saw, so nothing is missed or repeated: with a Conn (Dial) over several
// nodes, on the next node at once, with backoff once every node was tried. It
// returns nil when ctx ends, a refused request's error (bad service name, bad
// secret), or the handler's own error.
func Watch(ctx context.Context, client discoveryv1.DiscoveryServiceClient, opts WatchOptions, handle func(*discoveryv1.WatchEvent) error) error {
	backoff := opts.Backoff
	if backoff == nil {
		backoff = DefaultBackoff()
	}
	resumeFrom := opts.SinceRevision
	resumable := resumeFrom > 0
	partialSnapshot := false
	conn := connOf(client)
	// Breaks since the last event: each moves to the next node, and once all were tried, backoff.
	brokenInARow := 0
	broken := false
	for ctx.Err() == nil {
		since := uint64(0)
		if resumable {
			since = resumeFrom
		}
		from := conn.position()
		err := func() error {
			stream, err := client.Watch(ctx, &discoveryv1.WatchRequest{ServiceNames: opts.Services, SinceRevision: since})
			if err != nil {
				return err
			}
			for {
				event, err := stream.Recv()
				if err != nil {
					if errors.Is(err, io.EOF) {
						return errors.New("the registry ended the Watch stream")
					}
					return err
				}
				brokenInARow = 0
				if broken {
					broken = false
					if opts.OnReconnect != nil {
						opts.OnReconnect(conn.address(), since)
					}
				}
				switch event.Type {
				case discoveryv1.EventType_EVENT_TYPE_RESET:
					resumable, partialSnapshot = false, false
				case discoveryv1.EventType_EVENT_TYPE_SNAPSHOT:
					partialSnapshot = true
				case discoveryv1.EventType_EVENT_TYPE_SYNCED:
					resumeFrom, resumable, partialSnapshot = event.Revision, true, false
					backoff.reset()
				default:
					if resumable && event.Revision <= resumeFrom {
						continue // already seen (cannot happen with a correct server)
					}
					if resumable {
						resumeFrom = event.Revision
					}
				}
				if err := handle(event); err != nil {
					return &handlerError{err}
				}
			}
		}()
		if ctx.Err() != nil {
			return nil
		}
		var herr *handlerError
		if errors.As(err, &herr) {
			return herr.err
		}
		if permanent(err) {
			return err
		}
		if opts.OnDisconnect != nil {
			opts.OnDisconnect(err)
		}
		broken = true
		conn.moveOn(from)
		brokenInARow++
		delay := time.Duration(0)
		if brokenInARow >= conn.size() {
			delay = backoff.next()
		}
		if !sleep(ctx, delay) {
			return nil
		}
		if !resumable && partialSnapshot {
			partialSnapshot = false
			reset := &discoveryv1.WatchEvent{Type: discoveryv1.EventType_EVENT_TYPE_RESET, Revision: resumeFrom, Reason: ReconnectResetReason}
			if err := handle(reset); err != nil {
				return err
			}
		}
	}
	return nil
}

type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
