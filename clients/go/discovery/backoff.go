// Package discovery registers instances with a grpc-discovery registry and
// follows its Watch stream: Register keeps a lease alive on one KeepAlive
// stream (registering again when the registry lost it), Close drains then
// unregisters, and Watch survives disconnects by resuming from its revision.
package discovery

import (
	"context"
	"math/rand"
	"time"

	// grpc-go 1.33 marshals through github.com/golang/protobuf. Only 1.4 and later
	// (a layer over google.golang.org/protobuf, which the stubs in gen/ are made
	// for) can decode APIv2 messages; 1.3 panics with "protobuf tag not enough
	// fields in RegisterResponse.state". MessageV2 exists only from 1.4 on, so a
	// mismatched runtime fails the build here instead of the first call.
	legacyproto "github.com/golang/protobuf/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var _ = legacyproto.MessageV2

// Backoff bounds the delay between retries: full jitter up to
// min(Max, Initial*2^attempt).
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	attempt int
}

// DefaultBackoff is used when an option leaves Backoff nil.
func DefaultBackoff() *Backoff {
	return &Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
}

func (b *Backoff) next() time.Duration {
	ceiling := b.Initial << uint(minInt(b.attempt, 30))
	if ceiling <= 0 || ceiling > b.Max {
		ceiling = b.Max
	}
	b.attempt++
	return time.Duration(rand.Int63n(int64(ceiling) + 1))
}

func (b *Backoff) reset() { b.attempt = 0 }

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// permanent errors are ones a retry cannot fix: the request itself is refused.
func permanent(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented, codes.FailedPrecondition:
		return true
	}
	return false
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}
