package io.raftkv.transport.tcp;

import io.raftkv.transport.TlsConfig;

/**
 * Every test of {@link TcpTransportTest} again under mutual TLS, with the peers' connections read by the
 * node's thread ({@link TcpTransport#pollInbound()}), as socket mode runs on platform threads.
 */
class TlsPolledTcpTransportTest extends PolledTcpTransportTest {
    @Override
    TlsConfig tls() {
        return TlsTcpTransportTest.NODE;
    }
}
