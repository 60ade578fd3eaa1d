package io.raftkv.sim;

import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.Operation;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Why a lease's drift bound must cover how far the clocks drift apart, as a scenario: a leader whose clock runs
 * at a quarter of its followers' speed is cut off; they elect another, which commits a write; then a client
 * reads from the old leader. With a bound of one tick its lease still holds and it serves the value from
 * before the write, a stale read the linearizability checker rejects. With a bound that covers the drift the
 * lease has run out and the read waits for a heartbeat round it cannot get. Steps are the unit of time: the
 * followers tick every step, the old leader every fourth; messages arrive at once.
 */
class LeaseDriftTest {
    private static final int ELECTION_TICKS = 10;
    private static final int SLOW = 4;

    @Test
    void aLeaseWhoseBoundIsShortOfTheDriftServesAStaleReadTheCheckerRejects() {
        Scenario s = new Scenario(1);
        List<Operation> history = s.run();
        assertEquals("v1", s.staleRead, "the old leader read from its lease");
        CheckResult result = LinearizabilityChecker.check(history);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), history + ": " + result.explanation());
    }

    @Test
    void aLeaseWhoseBoundCoversTheDriftHasRunOutByThen() {
        // A lease of (10 - D) slow ticks, 4 steps each, must end before a follower's 9 steps: D = 8.
        Scenario s = new Scenario(8);
        List<Operation> history = s.run();
        assertEquals(null, s.staleRead, "the old leader had no lease left: it asked for a heartbeat round instead");
        assertTrue(LinearizabilityChecker.check(history).ok(), String.valueOf(history));
    }

    /** Three cores on a hand-driven network: node 1 leads, on the slow clock. */
    private static final class Scenario {
        final Map<Integer, RaftCore> cores = new HashMap<>();
        final Map<Integer, Map<String, String>> state = new HashMap<>();
        final Map<Integer, List<ReadState>> readsDone = new HashMap<>();
        final ArrayDeque<Message> wire = new ArrayDeque<>();
        boolean nodeOneCut;
        long step;
        String staleRead;

        Scenario(int driftBoundTicks) {
            for (int id = 1; id <= 3; id++) {
                RaftConfig config = RaftConfig.builder(id, Set.of(1, 2, 3), new SplittableRandom(id))
                        .electionTicks(ELECTION_TICKS).heartbeatTicks(1)
                        .readPolicy(ReadPolicy.LEASE).clockDriftTicks(driftBoundTicks).build();
                cores.put(id, new RaftCore(config, HardState.INITIAL, List.of()));
                state.put(id, new HashMap<>());
                readsDone.put(id, new ArrayList<>());
            }
        }

        List<Operation> run() {
            List<Operation> history = new ArrayList<>();
            cores.get(1).campaign();
            settle();
            assertEquals(Role.LEADER, cores.get(1).role());
            long call = step;
            write(1, "k", "v1");
            history.add(Operation.put(1, call, step, "k", "v1"));
            for (int i = 0; i < 2 * SLOW; i++) advance(); // heartbeat rounds acknowledged: node 1 holds its lease

            nodeOneCut = true;
            int next = 0;
            while (next == 0 || !committedInItsTerm(next)) {
                advance();
                if (next == 0) next = cores.get(2).role() == Role.LEADER ? 2 : cores.get(3).role() == Role.LEADER ? 3 : 0;
                assertTrue(step < 100, "nodes 2 and 3 elected no leader");
            }
            call = step;
            write(next, "k", "v2");
            history.add(Operation.put(2, call, step, "k", "v2"));
            assertEquals(Role.LEADER, cores.get(1).role(), "node 1 still takes itself for the leader");

            call = ++step; // the read begins after the write completed
            assertTrue(cores.get(1).readIndex(1));
            settle();
            ReadState done = readsDone.get(1).stream().filter(r -> r.context() == 1).findFirst().orElse(null);
            if (done != null) {
                staleRead = state.get(1).get("k");
                history.add(Operation.get(3, call, ++step, "k", staleRead));
            } else {
                history.add(Operation.pendingGet(3, call, "k"));
            }
            return history;
        }

        private boolean committedInItsTerm(int leader) {
            RaftCore c = cores.get(leader);
            return c.role() == Role.LEADER && c.commitIndex() > 0 && c.log().term(c.commitIndex()) == c.term();
        }

        /** One step: the followers' clocks tick, the old leader's every fourth step; then everything is delivered. */
        private void advance() {
            step++;
            for (int id = 1; id <= 3; id++) {
                if (id != 1 || step % SLOW == 0) cores.get(id).tick();
            }
            settle();
        }

        /** Proposes {@code key=value} at {@code leader} and delivers until it is applied there. */
        private void write(int leader, String key, String value) {
            long index = cores.get(leader).propose((key + "=" + value).getBytes(StandardCharsets.UTF_8));
            assertTrue(index > 0, "node " + leader + " took the write");
            settle();
            assertTrue(cores.get(leader).log().applied() >= index, "the write committed");
            step++;
        }

        /** Handles every ready and delivers every message until nothing is left; a cut loses node 1's traffic. */
        private void settle() {
            boolean busy = true;
            while (busy) {
                busy = false;
                for (int id = 1; id <= 3; id++) {
                    RaftCore c = cores.get(id);
                    while (c.hasReady()) {
                        busy = true;
                        handle(id, c, c.ready());
                    }
                }
                Message m;
                while ((m = wire.poll()) != null) {
                    busy = true;
                    if (nodeOneCut && (m.from() == 1 || m.to() == 1)) continue;
                    cores.get(m.to()).step(m);
                }
            }
        }

        private void handle(int id, RaftCore c, Ready r) {
            wire.addAll(r.messages());
            wire.addAll(r.messagesAfterPersist()); // storage is instant here
            for (Entry e : r.committedEntries()) {
                if (e.kind() != Entry.Kind.COMMAND) continue;
                String[] kv = new String(e.data(), StandardCharsets.UTF_8).split("=", 2);
                state.get(id).put(kv[0], kv[1]);
            }
            readsDone.get(id).addAll(r.readStates());
            c.advance(r);
        }
    }
}
