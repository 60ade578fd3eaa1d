package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.KvService;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Entry;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Message;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.Transport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a put's command costs to encode on the leader and to decode where it is applied, through
 * public API only: the codec itself ({@code KvCommand}) and the file log's record format
 * ({@code LogFormat}) are package-private.
 * <ul>
 *   <li>{@link #encodePut}: {@code KvService.handle} of a PUT request, the leader's entry point for a
 *       client's put: the request is checked (the UTF-8 length of key and value), encoded into the
 *       command bytes that go in the log, and proposed to a {@link RaftNode} that is closed, so the
 *       proposal is refused at once (no inbox, no thread) and the reply is a {@code NotLeader}. So it
 *       times checking + encoding + two small allocations for the refusal.</li>
 *   <li>{@link #decodePut}: {@code KvStateMachine.apply} of the bytes of a real put, taken from the
 *       log of a one-node cluster, replayed as a retry of a write already applied: the command is
 *       decoded in full (the key as a String; the value checked and left as UTF-8 in the command) and answered from the client's session, without
 *       touching the map. So it times decoding + one session lookup.</li>
 * </ul>
 *
 * <p>Run: <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="CommandCodecBenchmark -prof gc"</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class CommandCodecBenchmark {
    private static final String KEY = "k512";

    @Param({"16", "128", "1024"})
    int valueBytes;

    private KvService service;
    private KvRequest put;
    private KvResponse lastResponse;
    private final Consumer<KvResponse> reply = r -> lastResponse = r;

    private KvStateMachine stateMachine;
    private long putIndex;
    private byte[] putCommand;

    @Setup(Level.Trial)
    public void setUp() {
        String value = CommitTargets.value(valueBytes);
        setUpEncode(value);
        setUpDecode(value);
    }

    private void setUpEncode(String value) {
        RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        Transport nowhere = new Transport() {
            @Override
            public void send(Message message) {}

            @Override
            public void close() {}
        };
        RaftNode closed = RaftNode.builder(config, new MemoryStorage(), new KvStateMachine()).transport(sink -> nowhere).build();
        closed.close(); // never started: it refuses every proposal on the caller's thread
        service = new KvService(closed, KvLimits.DEFAULT);
        put = new KvRequest(KvRequest.Kind.PUT, 2, 1, KEY, value);
        service.handle(put, reply);
        if (!(lastResponse instanceof KvResponse.NotLeader)) {
            throw new IllegalStateException("a closed node answered a put with " + lastResponse + ", not NotLeader");
        }
    }

    private void setUpDecode(String value) {
        MemoryStorage log = new MemoryStorage();
        try (Cluster cluster = Cluster.builder().nodes(1).seed(CommitTargets.SEED).storage(id -> log).start()) {
            cluster.awaitLeader(Duration.ofSeconds(10));
            KvClient client = cluster.newClient();
            client.put(KEY, value); // the log now holds the client's registration, then this put
        }
        stateMachine = new KvStateMachine();
        List<Entry> entries = log.entries();
        for (Entry e : entries) {
            if (e.kind() != Entry.Kind.COMMAND) continue;
            stateMachine.apply(e.index(), e.data()); // replays the registration and the put itself
            putIndex = e.index();
            putCommand = e.data();
        }
        if (putCommand == null) throw new IllegalStateException("no command in the log of a put: " + entries);
        if (stateMachine.query(KEY) == null || !stateMachine.query(KEY).equals(value)) {
            throw new IllegalStateException("the last command of the log is not the put of " + KEY + ": " + entries);
        }
    }

    @Benchmark
    public KvResponse encodePut() {
        service.handle(put, reply);
        return lastResponse;
    }

    @Benchmark
    public Object decodePut() {
        return stateMachine.apply(putIndex, putCommand);
    }
}
