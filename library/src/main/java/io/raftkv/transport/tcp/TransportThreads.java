package io.raftkv.transport.tcp;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The threads of one node's transport (acceptor, readers, writers): made by its thread factory, named
 * {@code raftkv-tcp-<self id>-<what>}, logged if they fail, and interrupted and joined when it closes.
 */
final class TransportThreads {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());
    private static final long JOIN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final int selfId;
    private final String threadPrefix;
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    /** Set before the first thread is made (the transport's start), read by whoever makes one. */
    private ThreadFactory threadFactory = Thread.ofVirtual().factory();

    TransportThreads(int selfId) {
        this.selfId = selfId;
        this.threadPrefix = "raftkv-tcp-" + selfId + "-";
    }

    /** Makes the threads with {@code factory} from now on. */
    void factory(ThreadFactory factory) {
        this.threadFactory = factory;
    }

    Thread spawn(String name, Runnable body) {
        Thread t = unstarted(name, body);
        t.start();
        return t;
    }

    /** A thread of this transport, registered (so close() joins it) but not started. */
    Thread unstarted(String name, Runnable body) {
        Thread t = threadFactory.newThread(() -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                LOG.log(Level.ERROR, "node " + selfId + ": transport thread " + Thread.currentThread().getName()
                        + " failed", e);
            } finally {
                threads.remove(Thread.currentThread());
            }
        });
        t.setName(threadPrefix + name);
        threads.add(t);
        return t;
    }

    /** Renames the calling thread, one of these, once it knows what it serves. */
    void rename(String name) {
        Thread.currentThread().setName(threadPrefix + name);
    }

    /** The threads started and not yet ended. */
    List<Thread> list() {
        return List.copyOf(threads);
    }

    /**
     * Interrupts and joins every thread, for at most 5 s in all (logging those left); runs {@code eachRound}
     * after each round, since threads may still be starting readers while they are joined.
     */
    void joinAll(Runnable eachRound) {
        long deadline = System.nanoTime() + JOIN_TIMEOUT_NANOS;
        // Threads may still be starting readers while we join; loop until the set is empty or time is up.
        while (!threads.isEmpty()) {
            for (Thread t : List.copyOf(threads)) {
                if (t == Thread.currentThread()) {
                    threads.remove(t);
                    continue;
                }
                t.interrupt();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOG.log(Level.WARNING, () -> "node " + selfId + ": transport threads did not stop within 5 s: " + threads);
                    return;
                }
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            eachRound.run();
        }
    }
}
