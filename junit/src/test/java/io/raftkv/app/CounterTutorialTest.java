package io.raftkv.app;

import io.raftkv.client.CommandFailedException;
import io.raftkv.cluster.Await;
import io.raftkv.cluster.Cluster;
import io.raftkv.docs.DocBlocks;
import io.raftkv.junit.RaftCluster;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tutorial in docs/custom-state-machine.md, word for word: every Java block of that page is in this
 * file (the first test checks it), and the tests run them: a replicated counter through a partition and
 * a leader crash.
 */
class CounterTutorialTest {

    // tutorial:application
    /** A counter that every node keeps; commands add to it, queries read it. */
    public static final class Counter implements Application<Long, String, Long> {
        private long value;

        @Override
        public Long apply(Long delta) {
            if (delta == 0) throw new IllegalArgumentException("adding 0 changes nothing");
            value = Math.addExact(value, delta);
            return value;
        }

        @Override
        public Long query(String what) {
            if (!what.equals("value")) throw new IllegalArgumentException("unknown query " + what);
            return value;
        }

        @Override
        public boolean canSnapshot() {
            return true;
        }

        @Override
        public void snapshot(OutputStream out) throws IOException {
            new DataOutputStream(out).writeLong(value);
        }

        @Override
        public void restore(InputStream in) throws IOException {
            value = new DataInputStream(in).readLong();
        }
    }

    /** The counter as a cluster and its clients know it: how to make one, and its codecs. */
    public static final class CounterSpec implements AppSpec<Long, String, Long> {
        @Override public Application<Long, String, Long> newApplication() { return new Counter(); }
        @Override public Codec<Long> commands() { return Codec.longs(); }
        @Override public Codec<String> queries() { return Codec.strings(); }
        @Override public Codec<Long> results() { return Codec.longs(); }
    }
    // end

    @Test
    void theDocsHoldThisFilesCode() {
        String page = "../docs/custom-state-machine.md";
        String self = "src/test/java/io/raftkv/app/CounterTutorialTest.java";
        assertTrue(DocBlocks.javaBlocks(DocBlocks.read(page)).size() >= 3, "the tutorial has its Java blocks");
        DocBlocks.assertEveryBlockIsIn(page, self);
        // The application and its spec, the user's code, stay within 60 lines.
        String source = DocBlocks.normalise(DocBlocks.read(self));
        String app = source.substring(source.indexOf("// tutorial:application"), source.indexOf("// end"));
        long lines = app.lines().count() - 1;
        assertTrue(lines <= 60, "the counter and its spec take " + lines + " lines");
    }

    @Test
    void aCounterSurvivesAPartitionAndALeaderCrash(@RaftCluster(app = CounterSpec.class) Cluster cluster) {
        // tutorial:use
        AppClient<Long, String, Long> client = cluster.newClient(CounterSpec.class);
        assertEquals(5, client.apply(5L));
        assertEquals(3, client.apply(-2L));

        // Cut the leader off: the others elect a new one, and the client follows it.
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        cluster.isolate(leader);
        assertEquals(13, client.apply(10L));
        cluster.heal();

        // Crash the new leader: its command is not lost, and no command applies twice.
        cluster.kill(cluster.awaitLeader(Duration.ofSeconds(5)));
        assertEquals(14, client.apply(1L));
        assertEquals(14, client.read("value"));

        // What the counter threw is the command's answer, on every node alike.
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> client.apply(0L));
        assertTrue(e.getMessage().contains("adding 0 changes nothing"), e.getMessage());
        // end
    }

    @Test
    void aCounterWithAConstantSpecAndFutures() throws Exception {
        // tutorial:constant
        AppSpec<Long, String, Long> counter = AppSpec.of(Counter::new, Codec.longs(), Codec.strings(), Codec.longs());
        try (Cluster cluster = Cluster.builder().nodes(3).app(counter).start()) {
            AppClient<Long, String, Long> client = cluster.newClient(counter);
            List<java.util.concurrent.CompletableFuture<Long>> sums = new ArrayList<>();
            for (long i = 1; i <= 100; i++) sums.add(client.submit(i)); // applied one at a time, in order
            assertEquals(5050, sums.get(99).get());
            assertEquals(5050, client.query("value").get());
        }
        // end
    }

    @Test
    void aRestartedNodeRebuildsTheCountFromItsSnapshot() {
        // Snapshots every 512 bytes of log, keeping no entries behind them: a restart must go through one.
        try (Cluster cluster = Cluster.builder().nodes(3).app(new CounterSpec())
                .snapshots(io.raftkv.node.SnapshotPolicy.defaults().withLogBytes(512).withTrailingEntries(0)).start()) {
            AppClient<Long, String, Long> client = cluster.newClient(new CounterSpec());
            for (int i = 0; i < 50; i++) client.apply(2L);
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            Await.until("node " + follower + " takes a snapshot", Duration.ofSeconds(5),
                    () -> cluster.snapshotStats(follower).orElseThrow().snapshotIndex() > 0, () -> cluster.snapshotStats(follower));
            cluster.kill(follower);
            cluster.restart(follower);
            // Hand leadership to the restarted node: it answers from the state it rebuilt.
            cluster.transferLeadership(follower);
            assertEquals(100, client.read("value"));
            assertEquals(102, client.apply(2L));
        }
    }
}
