package io.raftkv.lincheck;

import io.raftkv.kv.KvClient;
import io.raftkv.client.OutcomeUnknownException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A client that issues random PUT, GET, REPLACE, DELETE and CAS on a few keys, with values no other write
 * uses, until stopped (a CAS mostly expects the value this client last saw for the key, so that some succeed), and records each call as an {@link Operation} for the linearizability checker: what the
 * embedded nemesis test and the network-namespace run both drive their clusters with.
 *
 * <p>Run it on a thread of its own; read {@link #history()} after that thread has ended.
 */
public final class RecordingClient implements Runnable {
    private final int id;
    private final KvClient client;
    private final List<String> keys;
    private final SplittableRandom random;
    private final AtomicBoolean stop;
    private final long pacingMaxNanos;
    private final List<Operation> history = new ArrayList<>();
    /** The value this client last read or wrote for each key (absent: null), which its CASes expect. */
    private final java.util.Map<String, String> lastSeen = new java.util.HashMap<>();
    private int droppedGets;
    /** Only what a cluster at feature level 1 serves: GET, PUT and REPLACE (set before the client runs). */
    private boolean levelOneOnly;
    /** Operations answered so far: readable from any thread while the client runs. */
    private volatile int completed;
    private volatile Throwable failure;

    /**
     * @param id             the client id recorded in each operation; also names the values it writes
     * @param pacingMaxNanos each client pauses a random time up to this between operations
     */
    public RecordingClient(int id, KvClient client, List<String> keys, SplittableRandom random, AtomicBoolean stop,
                           long pacingMaxNanos) {
        this.id = id;
        this.client = Objects.requireNonNull(client, "client");
        this.keys = List.copyOf(keys);
        if (this.keys.isEmpty()) throw new IllegalArgumentException("name at least one key");
        this.random = Objects.requireNonNull(random, "random");
        this.stop = Objects.requireNonNull(stop, "stop");
        if (pacingMaxNanos < 0) throw new IllegalArgumentException("pacingMaxNanos must be >= 0, was " + pacingMaxNanos);
        this.pacingMaxNanos = pacingMaxNanos;
    }

    public int id() {
        return id;
    }

    /**
     * Issues GET, PUT and REPLACE only, as many of each as before, and no DELETE or CAS: what a cluster at feature
     * level 1 serves (a leader of a newer build refuses the others there, as during a rolling upgrade from a build
     * older than feature levels). Call it before the client runs.
     */
    public RecordingClient levelOneOnly() {
        levelOneOnly = true;
        return this;
    }

    /** The operations recorded, in the order this client issued them. */
    public List<Operation> history() {
        return history;
    }

    /** How many operations were answered so far; safe to read while the client runs (to wait for progress). */
    public int completed() {
        return completed;
    }

    /** GETs that failed (outcome unknown): they constrain nothing, so they are counted, not recorded. */
    public int droppedGets() {
        return droppedGets;
    }

    /** What stopped this client other than {@code stop}, or null. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void run() {
        try {
            for (int n = 0; !stop.get(); n++) {
                String key = keys.get(random.nextInt(keys.size()));
                String value = "c" + id + "-" + n;
                int dice = random.nextInt(levelOneOnly ? 80 : 100); // 80 and up: DELETE and CAS
                String expected = dice >= 88 && random.nextInt(4) != 0 ? lastSeen.get(key) : null;
                long call = System.nanoTime();
                try {
                    if (dice < 40) {
                        Optional<String> got = client.get(key);
                        history.add(Operation.get(id, call, System.nanoTime(), key, got.orElse(null)));
                        lastSeen.put(key, got.orElse(null));
                    } else if (dice < 65) {
                        client.put(key, value);
                        history.add(Operation.put(id, call, System.nanoTime(), key, value));
                        lastSeen.put(key, value);
                    } else if (dice < 80) {
                        boolean replaced = client.replace(key, value);
                        history.add(Operation.replace(id, call, System.nanoTime(), key, value, replaced));
                        if (replaced) lastSeen.put(key, value);
                    } else if (dice < 88) {
                        boolean deleted = client.delete(key);
                        history.add(Operation.delete(id, call, System.nanoTime(), key, deleted));
                        lastSeen.put(key, null);
                    } else {
                        boolean set = client.compareAndSet(key, expected, value);
                        history.add(Operation.cas(id, call, System.nanoTime(), key, expected, value, set));
                        if (set) lastSeen.put(key, value);
                    }
                    completed++; // one writer: this thread
                } catch (OutcomeUnknownException e) {
                    // A read nobody saw constrains nothing; a write may take effect at any time after its call, or never.
                    if (dice < 40) droppedGets++;
                    else if (dice < 65) history.add(Operation.pendingPut(id, call, key, value));
                    else if (dice < 80) history.add(Operation.pendingReplace(id, call, key, value));
                    else if (dice < 88) history.add(Operation.pendingDelete(id, call, key));
                    else history.add(Operation.pendingCas(id, call, key, expected, value));
                }
                // Workload pacing, not a wait: it keeps the history (and the time to check it) bounded.
                if (pacingMaxNanos > 0) LockSupport.parkNanos(random.nextLong(pacingMaxNanos + 1));
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /**
     * Reads every key once with {@code reader}, as client {@code clientId}, and returns the reads as
     * operations (to be added to the history). An {@link OutcomeUnknownException} propagates: a cluster
     * that cannot answer a read after the faults are healed is a failure, not a pending read.
     */
    public static List<Operation> finalReads(int clientId, KvClient reader, List<String> keys) {
        List<Operation> reads = new ArrayList<>();
        for (String key : keys) {
            long call = System.nanoTime();
            Optional<String> value = reader.get(key);
            reads.add(Operation.get(clientId, call, System.nanoTime(), key, value.orElse(null)));
        }
        return reads;
    }

    /**
     * What the final reads (by {@code finalReader}) say was lost: a key that ends absent although a write
     * of it was acknowledged and no delete could have removed it, or ends with a value no write of it wrote.
     * Empty if nothing was. The linearizability check covers this too; this says it plainly.
     */
    public static List<String> lostWrites(List<Operation> history, List<String> keys, int finalReader) {
        List<String> problems = new ArrayList<>();
        for (String key : keys) {
            Set<String> written = new HashSet<>();
            boolean acknowledged = false;
            boolean mayBeDeleted = false;
            Operation last = null;
            for (Operation op : history) {
                if (!op.key().equals(key)) continue;
                if (op.clientId() == finalReader) last = op;
                else if (op.kind() == OpKind.DELETE) {
                    mayBeDeleted |= op.pending() || "true".equals(op.output());
                } else if (op.kind() != OpKind.GET) {
                    written.add(op.input());
                    if (!op.pending() && (op.kind() == OpKind.PUT || "true".equals(op.output()))) acknowledged = true;
                }
            }
            if (last == null) problems.add("no final read of " + key);
            else if (last.output() == null) {
                if (acknowledged && !mayBeDeleted) {
                    problems.add("key " + key + " is absent at the end, but a write of it was acknowledged and no delete"
                            + " could have removed it");
                }
            } else if (!written.contains(last.output())) {
                problems.add("key " + key + " ends as " + last.output() + ", which no write of it wrote");
            }
        }
        return problems;
    }
}
