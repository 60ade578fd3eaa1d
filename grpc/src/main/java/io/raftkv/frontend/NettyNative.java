package io.raftkv.frontend;

/** Keeps gRPC's Netty on Java NIO, off its native transports. */
final class NettyNative {
    private NettyNative() {}

    /**
     * Call before gRPC is first used. Netty's native epoll library is loaded through System.loadLibrary, which
     * JDK 24+ warns about on every start unless the JVM is given --enable-native-access; NIO is plenty for a
     * front end and its servers, and the command line promises to need no flags and print no warnings.
     */
    static void off() {
        System.setProperty("io.grpc.netty.shaded.io.netty.transport.noNative", "true");
    }
}
