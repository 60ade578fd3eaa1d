package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.Transport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A caller's own {@link Proposal}: answered as a reply is, and proposed only once. */
class ProposalTest {
    /** Counts commands. */
    private static final class Counter implements StateMachine {
        long count;

        @Override public Object apply(long index, byte[] command) { return ++count; }
        @Override public Object query(Object query) { return count; }
    }

    /** A proposal that is its own answer. */
    private static final class Answer extends Proposal {
        final CompletableFuture<Object> done = new CompletableFuture<>();

        Answer(byte[] command) {
            super(command);
        }

        @Override public void ok(Object result) { done.complete(result); }
        @Override public void notLeader(int leaderHint) { done.completeExceptionally(new NotLeaderException(1, leaderHint)); }
    }

    @Test
    void aProposalOfItsOwnLearnsItsResultAndCannotBeProposedTwice() throws Exception {
        RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).electionTicks(10).build();
        Transport nowhere = new Transport() {
            @Override public void send(Message message) {}
            @Override public void close() {}
        };
        try (RaftNode node = RaftNode.builder(config, new MemoryStorage(), new Counter()).transport(sink -> nowhere).tickInterval(Duration.ofMillis(5)).threads(Thread.ofVirtual().factory()).build()) {
            node.start();
            node.campaign();
            RaftNodeTest.await("the lone node leads", () -> node.status().role() == Role.LEADER, node::status);
            Answer first = new Answer(new byte[] {1});
            node.propose(first);
            assertEquals(1L, first.done.get(5, TimeUnit.SECONDS));
            assertEquals("this proposal was proposed already: propose each instance once",
                    assertThrows(IllegalStateException.class, () -> node.propose(first)).getMessage());
            Answer second = new Answer(new byte[] {2});
            node.propose(second);
            assertEquals(2L, second.done.get(5, TimeUnit.SECONDS), "the refused repeat was not applied");
            assertThrows(NullPointerException.class, () -> node.propose(new Answer(null)));
        }
    }
}
