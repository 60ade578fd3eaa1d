package io.raftkv.cluster;

import io.raftkv.kv.KvClient;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Load for the heap-log bound tests: clients on virtual threads put {@code value} under keys of their own, and after
 * each put look at every node's published log size. Not timed: the largest size seen is what a test bounds.
 */
final class HeapLogWatch {
    private HeapLogWatch() {}

    /** Runs {@code clients} clients of {@code putsEach} puts each to the end; returns the most log bytes a node held. */
    static long putAndWatch(Cluster cluster, int clients, int putsEach, String value) throws InterruptedException {
        AtomicLong largest = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            KvClient client = cluster.newClient();
            int id = c;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < putsEach; i++) {
                        client.put("k" + id + "-" + (i & 63), value);
                        for (int node : cluster.nodeIds()) {
                            cluster.snapshotStats(node).ifPresent(s -> largest.accumulateAndGet(s.logBytes(), Math::max));
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertNull(failure.get(), () -> "a client failed: " + failure.get());
        return largest.get();
    }
}
