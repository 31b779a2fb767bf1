// Command register-watch registers an instance with a grpc-discovery registry,
// heartbeats on a KeepAlive stream, prints the service's Watch events, and on
// SIGTERM or SIGINT drains, unregisters and exits 0. REGISTRY names one
// registry node or several (comma-separated): when the one in use goes away,
// heartbeats and the watch move to the next.
//
//	REGISTRY=127.0.0.1:3004,127.0.0.1:3005 SERVICE=go-users go run ./examples/register-watch
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"grpc-discovery/clients/go/discovery"
	discoveryv1 "grpc-discovery/clients/go/gen/discovery/v1"

	"google.golang.org/grpc"
)

func main() {
	registry := env("REGISTRY", "127.0.0.1:3004")
	service := env("SERVICE", "go-users")
	port, _ := strconv.Atoi(env("PORT", "8080"))
	load, _ := strconv.ParseFloat(env("LOAD", "0.25"), 64)
	drain, _ := time.ParseDuration(env("DRAIN", "1s"))
	ttl, _ := time.ParseDuration(env("TTL", "0s"))

	client, err := discovery.Dial([]string{registry}, grpc.WithInsecure())
	if err != nil {
		log.Fatalf("registry %s: %v", registry, err)
	}
	defer client.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	reg, err := discovery.Register(ctx, client, discovery.RegisterOptions{
		Service: service, InstanceID: os.Getenv("INSTANCE_ID"), Host: "127.0.0.1", Port: uint32(port),
		Metadata: map[string]string{"lang": "go"}, TTL: ttl,
		Load: func() float64 { return load },
		Logf: func(format string, args ...interface{}) { fmt.Printf("log "+format+"\n", args...) },
	})
	if err != nil {
		log.Fatalf("register: %v", err)
	}
	fmt.Printf("registered %s %s\n", service, reg.Instance().InstanceId)

	watched := make(chan error, 1)
	go func() {
		options := discovery.WatchOptions{
			Services:     []string{service},
			OnDisconnect: func(err error) { fmt.Printf("watch disconnected (%v)\n", err) },
			OnReconnect: func(address string, since uint64) {
				fmt.Printf("watch reconnected to %s after rev %d\n", address, since)
			},
		}
		watched <- discovery.Watch(ctx, client, options, func(e *discoveryv1.WatchEvent) error {
			fmt.Printf("event %s %s rev %d\n", e.Type, e.GetInstance().GetInstanceId(), e.Revision)
			return nil
		})
	}()

	<-ctx.Done()
	<-watched
	fmt.Println("draining")
	if err := reg.Close(drain); err != nil {
		log.Fatalf("close: %v", err)
	}
	fmt.Println("unregistered")
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
