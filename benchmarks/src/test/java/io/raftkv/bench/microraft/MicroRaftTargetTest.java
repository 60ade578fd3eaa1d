package io.raftkv.bench.microraft;

import io.raftkv.bench.CommitTarget.Writer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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

/** The MicroRaft benchmark target commits every put on every node and leaves no thread behind. */
@Timeout(30)
class MicroRaftTargetTest {
    private static final int PUTS = 1_000;
    private static final int CONCURRENT_WRITERS = 4;

    @Test
    void everyNodeAppliesEveryPutOfOneWriterAndOfConcurrentWritersThenCloseEndsItsThreads() throws Exception {
        Set<Thread> before = microRaftThreads();
        Map<String, String> expected = new HashMap<>();
        Set<Thread> nodeThreads;
        MicroRaftTarget target = new MicroRaftTarget(3);
        try {
            Writer single = target.newWriter();
            for (int i = 0; i < PUTS; i++) {
                single.put("single-" + i, "v" + i);
                expected.put("single-" + i, "v" + i);
            }

            List<Future<?>> writers = new ArrayList<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int w = 0; w < CONCURRENT_WRITERS; w++) {
                    String prefix = "writer" + w + "-";
                    writers.add(clients.submit(() -> {
                        Writer writer = target.newWriter();
                        for (int i = 0; i < PUTS; i++) {
                            writer.put(prefix + i, "v" + i);
                        }
                        return null;
                    }));
                    for (int i = 0; i < PUTS; i++) {
                        expected.put(prefix + i, "v" + i);
                    }
                }
            }
            for (Future<?> writer : writers) {
                writer.get(); // rethrows a writer's failure
            }

            List<Map<String, String>> contents = target.contents(Duration.ofSeconds(5));
            assertEquals(3, contents.size());
            for (int node = 0; node < contents.size(); node++) {
                assertEquals(expected, contents.get(node), "node " + (node + 1) + "'s map");
            }

            nodeThreads = microRaftThreads();
            nodeThreads.removeAll(before);
            assertEquals(3, nodeThreads.size(), "MicroRaft runs one platform thread per node: " + nodeThreads);
        } finally {
            target.close();
        }
        List<String> alive = nodeThreads.stream().filter(Thread::isAlive).map(Thread::getName).toList();
        assertTrue(alive.isEmpty(), "MicroRaft threads still alive after close: " + alive);
    }

    /** MicroRaft's default executor puts each node's thread in a group of this name. */
    private static Set<Thread> microRaftThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getThreadGroup() != null && "RaftThread".equals(t.getThreadGroup().getName()))
                .collect(Collectors.toCollection(HashSet::new));
    }
}
