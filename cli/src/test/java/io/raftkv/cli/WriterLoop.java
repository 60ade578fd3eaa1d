package io.raftkv.cli;

import io.raftkv.kv.KvClient;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A client that writes key "w" over and over (0, 1, 2, ...) on a platform thread of its own while a process test
 * restarts nodes under it: how many writes were acknowledged, and the longest time between two acknowledgements.
 */
final class WriterLoop {
    private final Thread thread;
    private final Duration wait;
    private volatile boolean stop;
    private volatile long acknowledged;
    private volatile long longestGapNanos;
    private volatile Throwable failure;

    /** Starts writing through {@code kv}; {@code wait} bounds each wait for more writes and the stop. */
    WriterLoop(String name, KvClient kv, Duration wait) {
        this.wait = wait;
        thread = Thread.ofPlatform().name(name).start(() -> {
            long last = System.nanoTime();
            try {
                for (long i = 0; !stop; i++) {
                    kv.put("w", Long.toString(i));
                    long now = System.nanoTime();
                    longestGapNanos = Math.max(longestGapNanos, now - last);
                    last = now;
                    acknowledged = i + 1;
                }
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    /** Waits until {@code n} more writes are acknowledged; fails the test if a write failed. */
    void awaitMore(int n) {
        long target = acknowledged + n;
        NodeProcess.await(n + " more writes", wait, () -> {
            if (failure != null) fail("a write failed", failure);
            return acknowledged >= target;
        });
    }

    /** Stops writing; fails the test if a write failed. */
    void stop() throws InterruptedException {
        stop = true;
        thread.join(wait.toMillis());
        if (failure != null) fail("a write failed", failure);
    }

    /** Writes acknowledged so far: the last one wrote {@code acknowledged() - 1}. */
    long acknowledged() {
        return acknowledged;
    }

    /** The longest time between two acknowledgements (or from the start to the first). */
    Duration longestGap() {
        return Duration.ofNanos(longestGapNanos);
    }
}
