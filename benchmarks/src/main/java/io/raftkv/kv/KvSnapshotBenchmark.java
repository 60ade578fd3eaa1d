package io.raftkv.kv;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * How long the KV state machine takes to write and to restore a snapshot of {@code keys} keys of 100-byte
 * values: the time a node's thread spends on it (a snapshot is taken and restored on that thread, so
 * commits wait meanwhile).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class KvSnapshotBenchmark {
    @Param({"10000", "100000"})
    int keys;

    private KvStateMachine machine;
    private byte[] snapshot;

    @Setup
    public void fill() throws IOException {
        machine = new KvStateMachine();
        machine.apply(1, KvCommand.register().encode());
        String value = "v".repeat(100);
        for (int k = 0; k < keys; k++) {
            machine.apply(2 + k, new KvCommand(KvCommand.Op.PUT, 1, k + 1, "key-" + k, value).encode());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        machine.snapshot(out);
        snapshot = out.toByteArray();
    }

    @Benchmark
    public int write() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(snapshot.length);
        machine.snapshot(out);
        return out.size();
    }

    @Benchmark
    public KvStateMachine restore() throws IOException {
        KvStateMachine m = new KvStateMachine();
        m.restore(new ByteArrayInputStream(snapshot));
        return m;
    }
}
