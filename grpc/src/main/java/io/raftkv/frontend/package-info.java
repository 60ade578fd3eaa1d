/**
 * The gRPC front end of the system raftkv replaces, over raftkv: {@code raftkv frontend} serves the
 * {@code FrontEnd} service (GET, PUT, REPLACE and {@code StartRaft(n)}, which starts a cluster of n server
 * processes), and {@code raftkv grpc-server} runs one of those servers, a raftkv node whose one port serves
 * its peers, the raftkv client protocol and the gRPC {@code KeyValueStore} service; {@code raftkv
 * grpc-client} makes one call to either. The messages and stubs are generated from {@code raftkv.proto}
 * into {@code io.raftkv.frontend.proto}. The commands join the {@code raftkv} command line when this
 * artifact is on its class path.
 */
package io.raftkv.frontend;
