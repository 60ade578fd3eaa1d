package io.raftkv.transport;

/**
 * A {@link Transport} whose inbound messages the node's own thread can read, instead of reader threads
 * that read each message and hand it over: a message then costs the node one wake-up (its socket's),
 * not two (the reader's, then the node's).
 *
 * <p>When {@link #polling()} says so, the node calls {@link #poll()} on every pass of its loop and
 * {@link #await()} where it would otherwise park; whatever else has work for the node (a client's
 * proposal, its ticker, a stop) calls {@link #wakeup()} where it would otherwise unpark it. Messages go
 * to the sink the transport was made with, on the node's thread.
 */
public interface PolledTransport extends Transport {
    /** Whether the node must poll this transport: set up before the node starts, and fixed from then on. */
    boolean polling();

    /** Delivers whatever has arrived, without blocking. The node's thread only. */
    void poll();

    /**
     * Blocks until something arrives (and delivers it), {@link #wakeup()} is called (before or during this
     * call), or the transport is closed. The node's thread only.
     */
    void await();

    /** Makes the node's current {@link #await()} return, or its next one return at once. Any thread. */
    void wakeup();
}
