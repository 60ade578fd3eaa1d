package io.raftkv.bench.jraft;

import io.raftkv.bench.CommitTarget.Writer;
import io.raftkv.cluster.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The SOFAJRaft benchmark target commits every put on every node, and close frees its ports and its nodes' threads. */
@Timeout(60)
class JraftTargetTest {
    private static final int NODES = 3;
    private static final int WRITERS = 4;
    private static final int PUTS = 250;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void writersOnSeveralThreadsCommitOnEveryNodeThenCloseFreesPortsAndNodeThreads() throws Exception {
        Set<Thread> before = jraftThreads();
        Map<String, String> expected = new HashMap<>();
        List<Integer> ports;
        Set<Thread> nodeThreads;
        JraftTarget target = new JraftTarget(NODES);
        try {
            ports = target.ports();
            assertEquals(NODES, new HashSet<>(ports).size(), "one port per node: " + ports);

            List<Future<Integer>> writers = new ArrayList<>();
            try (ExecutorService clients = Executors.newFixedThreadPool(WRITERS)) {
                for (int w = 0; w < WRITERS; w++) {
                    String prefix = "writer" + w + "-";
                    writers.add(clients.submit(() -> {
                        Writer writer = target.newWriter();
                        int returned = 0;
                        for (int i = 0; i < PUTS; i++) {
                            writer.put(prefix + i, "v" + i + "-é"); // a non-ASCII char: the codec is UTF-8
                            returned++;
                        }
                        return returned;
                    }));
                    for (int i = 0; i < PUTS; i++) {
                        expected.put(prefix + i, "v" + i + "-é");
                    }
                }
            }
            for (Future<Integer> writer : writers) {
                assertEquals(PUTS, writer.get(), "puts that returned"); // rethrows a writer's failure
            }

            // A put returns once the leader applied it; the followers apply it once they learn the commit
            // index, on a later append or heartbeat.
            Await.until("every node applied every put", WAIT, () -> target.contents().stream().allMatch(expected::equals), () -> {
                List<Map<String, String>> contents = target.contents();
                StringBuilder why = new StringBuilder("keys per node:");
                for (int n = 0; n < contents.size(); n++) {
                    why.append(" node ").append(n).append(" has ").append(contents.get(n).size()).append(" of ")
                            .append(expected.size()).append(" keys").append(expected.equals(contents.get(n)) ? " (all)" : "");
                }
                return why.toString();
            });
            assertTrue(target.term() >= 1, "a leader was elected in some term: " + target.term());

            nodeThreads = jraftThreads();
            nodeThreads.removeAll(before);
            assertTrue(!nodeThreads.isEmpty(), "the nodes run threads of their own");
        } finally {
            target.close();
        }

        for (int port : ports) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (IOException e) {
                fail("port " + port + " is still taken after close: " + e);
            }
        }
        // Node.join() returns once the node's own executors have been asked to stop; their threads end a
        // moment later.
        Await.until("the nodes' threads end after close", WAIT, () -> nodeThreads.stream().noneMatch(Thread::isAlive),
                () -> "alive: " + nodeThreads.stream().filter(Thread::isAlive).map(Thread::getName).sorted().toList());
    }

    /**
     * The threads a node owns and its shutdown ends: jraft's per-node Disruptor, timer, scheduler and RPC
     * processor threads (all named JRaft-...) and the Bolt server's boss thread. Left out: the JVM-wide pools
     * that outlive any one group by design (jraft's closure and group executors, its append-entries senders,
     * Bolt's Netty event loops and default executor), and Bolt's connection-event thread, one per client and
     * server that Bolt's shutdown does not end (an idle daemon thread each).
     */
    private static Set<Thread> jraftThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("Rpc-netty-server-boss") || (t.getName().startsWith("JRaft-")
                        && !t.getName().startsWith("JRaft-Group-Default-Executor")
                        && !t.getName().startsWith("JRaft-Rpc-Closure-Executor")))
                .collect(Collectors.toCollection(HashSet::new));
    }
}
