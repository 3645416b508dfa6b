// Command pubsub-fake serves Google's in-memory Pub/Sub fake (pstest) on a
// loopback port, so tests can use the real @google-cloud/pubsub client
// through PUBSUB_EMULATOR_HOST. pstest has no IAM service, so a small
// in-memory IAMPolicy service (iam.go) is registered on the same server for
// the topic permission step of `setup`.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
)

func main() {
	port := flag.Int("port", 8085, "TCP port on localhost to serve gRPC on; 0 picks a free one")
	flag.Parse()

	server := pstest.NewServerWithCallback(*port, func(grpcServer *grpc.Server) {
		iampb.RegisterIAMPolicyServer(grpcServer, newIAMFake())
	})
	// The test helper reads this line to learn the address.
	fmt.Printf("listening on %s\n", server.Addr)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	if err := server.Close(); err != nil {
		log.Printf("closing the Pub/Sub fake failed: %v", err)
	}
}
