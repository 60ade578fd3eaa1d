package io.raftkv.bench.microraft;

import io.microraft.statemachine.StateMachine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The key-value map a MicroRaft node applies committed puts to. MicroRaft calls it only from the
 * node's own thread, so a plain HashMap is safe.
 */
final class KvStateMachine implements StateMachine {
    /** A write: set {@code key} to {@code value}. */
    record Put(String key, String value) {
        Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    /** A query that answers the value of {@code key}, or null. */
    record Get(String key) {
        Get {
            Objects.requireNonNull(key, "key");
        }
    }

    /** A query that answers a copy of the whole map. */
    enum ReadAll { INSTANCE }

    /**
     * The entry a new leader appends (MicroRaft requires one, for safe membership changes); it
     * changes nothing.
     */
    enum NewTerm { INSTANCE }

    private final Map<String, String> map = new HashMap<>();

    @Override
    public Object runOperation(long commitIndex, Object operation) {
        return switch (operation) {
            case Put put -> map.put(put.key(), put.value());
            case Get get -> map.get(get.key());
            case ReadAll readAll -> Map.copyOf(map);
            case NewTerm newTerm -> null;
            default -> throw new IllegalArgumentException(
                    "not a key-value operation: " + operation + "; expected Put, Get, ReadAll or NewTerm");
        };
    }

    @Override
    public void takeSnapshot(long commitIndex, Consumer<Object> snapshotChunkConsumer) {
        // One chunk: the map is small in the benchmarks, and one chunk is trivially deterministic.
        snapshotChunkConsumer.accept(Map.copyOf(map));
    }

    @Override
    public void installSnapshot(long commitIndex, List<Object> snapshotChunks) {
        map.clear();
        for (Object chunk : snapshotChunks) {
            ((Map<?, ?>) chunk).forEach((key, value) -> map.put((String) key, (String) value));
        }
    }

    @Override
    public Object getNewTermOperation() {
        return NewTerm.INSTANCE;
    }
}
