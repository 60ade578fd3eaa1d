package io.raftkv.app;

import io.raftkv.app.CounterTutorialTest.Counter;
import io.raftkv.cluster.Cluster;
import io.raftkv.docs.DocBlocks;
import io.raftkv.junit.RaftCluster;
import io.raftkv.kv.KvClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The README's Java examples, word for word: each block of README.md is in this file (the first test
 * checks it: its imports among this file's, the rest as one run of lines), and the tests run them.
 */
class ReadmeExamplesTest {

    @Test
    void theReadmeHoldsThisFilesCode() {
        DocBlocks.assertEveryBlockIsIn("../README.md", "src/test/java/io/raftkv/app/ReadmeExamplesTest.java");
    }

    @Test
    void embedACluster() {
        try (Cluster cluster = Cluster.builder().nodes(3).start()) {
            KvClient client = cluster.newClient();
            client.put("colour", "blue");                   // committed by a majority, applied once
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            cluster.kill(leader);                           // crash it: the others elect a new leader
            assertEquals(Optional.of("blue"), client.get("colour")); // linearizable (ReadIndex)
            cluster.restart(leader);
        }
    }

    @Test
    void aWriteSurvivesALeaderCrash(@RaftCluster(nodes = 5) Cluster cluster) {
        KvClient client = cluster.newClient();
        client.put("k", "v");
        cluster.kill(cluster.awaitLeader(Duration.ofSeconds(5)));
        assertEquals(Optional.of("v"), client.get("k"));
    }

    @Test
    void yourOwnStateMachine() {
        AppSpec<Long, String, Long> counter = AppSpec.of(Counter::new, Codec.longs(), Codec.strings(), Codec.longs());
        try (Cluster cluster = Cluster.builder().nodes(3).app(counter).start()) {
            AppClient<Long, String, Long> client = cluster.newClient(counter);
            assertEquals(5, client.apply(5L));              // committed and applied once, retries included
            assertEquals(5, client.read("value"));          // linearizable (ReadIndex)
        }
    }
}
