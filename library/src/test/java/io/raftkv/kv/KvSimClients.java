package io.raftkv.kv;

import java.time.Duration;

/** For simulations in other packages: the production {@link KvClient} on a simulation's clock and waits. */
public final class KvSimClients {
    private KvSimClients() {}

    /** A simulation's clock and waits, as a {@link KvClient} uses them. */
    public interface Time extends ClientTime {}

    public static KvClient create(KvConnector connector, Duration deadline, Duration attemptTimeout, Time time) {
        return new KvClient(connector, KvLimits.DEFAULT, deadline, attemptTimeout, time);
    }
}
