// Command pubsub-fake serves Google's in-memory Pub/Sub fake (pstest) on a
// loopback port, so tests can use the real @google-cloud/pubsub client
// through PUBSUB_EMULATOR_HOST.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	port := flag.Int("port", 8085, "TCP port on 127.0.0.1 to serve gRPC on; 0 picks a free one")
	flag.Parse()

	server := pstest.NewServerWithAddress(fmt.Sprintf("127.0.0.1:%d", *port))
	// The test helper reads this line to learn the address.
	fmt.Printf("listening on %s\n", server.Addr)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	if err := server.Close(); err != nil {
		log.Printf("closing the Pub/Sub fake failed: %v", err)
	}
}
