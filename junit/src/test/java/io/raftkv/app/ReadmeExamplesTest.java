package io.raftkv.app;

import io.raftkv.app.CounterTutorialTest.Counter;
import io.raftkv.cluster.Cluster;
import io.raftkv.junit.RaftCluster;
import io.raftkv.kv.KvClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java examples, word for word: each block of README.md is in this file (the first test
 * checks it: its imports among this file's, the rest as one run of lines), and the tests run them.
 */
class ReadmeExamplesTest {

    @Test
    void theReadmeHoldsThisFilesCode() throws IOException {
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        String source = Files.readString(Path.of("src/test/java/io/raftkv/app/ReadmeExamplesTest.java"), StandardCharsets.UTF_8);
        assertEveryBlockIsIn(readme, "README.md", source);
    }

    /** Each ```java block of {@code markdown}: its import lines each in {@code source}, the rest as one run of its lines. */
    static void assertEveryBlockIsIn(String markdown, String page, String source) {
        String code = normalise(source);
        List<String> blocks = javaBlocks(markdown);
        assertTrue(!blocks.isEmpty(), page + " has Java blocks");
        for (String block : blocks) {
            StringBuilder body = new StringBuilder();
            for (String line : block.lines().toList()) {
                if (line.startsWith("import ")) assertTrue(code.contains(line.strip() + "\n"), page + " imports what this test does not: " + line);
                else body.append(line).append('\n');
            }
            assertTrue(code.contains(normalise(body.toString())), page + " has a block this test does not run:\n" + block);
        }
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

    /** The ```java blocks of a Markdown page. */
    static List<String> javaBlocks(String markdown) {
        List<String> out = new ArrayList<>();
        int at = 0;
        while ((at = markdown.indexOf("```java\n", at)) >= 0) {
            int end = markdown.indexOf("```", at + 8);
            out.add(markdown.substring(at + 8, end));
            at = end + 3;
        }
        return out;
    }

    /** The text with each line's leading and trailing blanks gone and blank lines dropped. */
    static String normalise(String text) {
        StringBuilder b = new StringBuilder();
        text.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }
}
