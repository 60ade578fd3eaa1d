package io.raftkv.frontend;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.raftkv.cli.RaftkvCommand;
import io.raftkv.frontend.proto.Empty;
import io.raftkv.frontend.proto.FrontEndGrpc;
import io.raftkv.frontend.proto.GetKey;
import io.raftkv.frontend.proto.IntegerArg;
import io.raftkv.frontend.proto.KeyValue;
import io.raftkv.frontend.proto.KeyValueStoreGrpc;
import io.raftkv.frontend.proto.Reply;
import io.raftkv.frontend.proto.State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code raftkv frontend} as a process, driven through the generated gRPC stubs as the harness of the system
 * raftkv replaces drives it: StartRaft(5), the leader found with GetState on every server (never two in one
 * term), the leader killed with {@code pkill -f raftserver<i>}, a new one within 5 s, PUT / GET / REPLACE, then
 * three servers cut off (with iptables, dropping packets by source port as that harness does, where this runs
 * as root with iptables; else by killing them): a PUT must fail with an error status.
 *
 * <p>Ports: the harness's are 8001, 9001.. and 7001..; here free ones are picked (another build on this
 * machine may use those), through the front end's flags.
 */
class FrontendProcessTest {
    private static final int N = 5;
    private static final Duration STARTUP = Duration.ofSeconds(30); // JVMs starting on a busy 2-core machine
    private static final Duration NEW_LEADER = Duration.ofSeconds(5); // what the harness allows
    /** Marks this JVM's iptables rules, so that a run killed before it cleaned up is cleaned up by the next. */
    private static final String RULE_TAG = "raftkv-frontend-test-";

    static {
        NettyNative.off(); // this JVM's own gRPC channels, as the command line's
    }

    private final List<String> output = new CopyOnWriteArrayList<>();
    private final List<String[]> rules = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final Set<ProcessHandle> seen = new java.util.HashSet<>();
    /** Every leader seen, by term: two in one term fails the test. */
    private final Map<Integer, Integer> leaders = new HashMap<>();
    private Process frontend;
    private int serverBase;

    /** Should this JVM be stopped (Ctrl-C) before {@link #cleanUp()} runs, the rules go anyway. */
    private final Thread removeRules = new Thread(this::removeRules, "remove-iptables-rules");

    @org.junit.jupiter.api.BeforeEach
    void removeRulesOfDeadRuns() throws IOException, InterruptedException {
        if (!iptablesUsable()) return;
        Process p = new ProcessBuilder("iptables", "-S", "OUTPUT").redirectErrorStream(true).start();
        String rulesNow = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        java.util.regex.Pattern tagged = java.util.regex.Pattern.compile("^-A (.* --comment " + RULE_TAG + "(\\d+) .*)$");
        for (String line : rulesNow.lines().toList()) {
            java.util.regex.Matcher m = tagged.matcher(line);
            if (m.matches() && !ProcessHandle.of(Long.parseLong(m.group(2))).map(ProcessHandle::isAlive).orElse(false)) {
                run(iptables("-D", m.group(1).split(" ")));
            }
        }
        Runtime.getRuntime().addShutdownHook(removeRules);
    }

    private synchronized List<String> removeRules() {
        List<String> problems = new ArrayList<>();
        for (String[] rule : rules) {
            if (run(iptables("-D", rule)) != 0) problems.add("could not delete iptables rule " + String.join(" ", rule));
        }
        rules.clear();
        return problems;
    }

    @AfterEach
    void cleanUp() {
        List<String> problems = removeRules();
        try {
            Runtime.getRuntime().removeShutdownHook(removeRules);
        } catch (IllegalStateException | IllegalArgumentException notRegisteredOrShuttingDown) {
            // nothing to undo
        }
        channels.forEach(ManagedChannel::shutdownNow);
        if (frontend != null) {
            frontend.descendants().forEach(seen::add);
            frontend.toHandle().destroy(); // SIGTERM: its shutdown hook kills the servers it started
            try {
                if (!frontend.waitFor(10, TimeUnit.SECONDS)) frontend.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (ProcessHandle p : seen) { // whatever is left, should the front end have failed to stop them
            if (p.isAlive()) {
                problems.add("server process " + p.pid() + " outlived the front end");
                p.destroyForcibly();
            }
        }
        if (!problems.isEmpty()) fail(String.join("; ", problems));
    }

    @Test
    void startRaftKillTheLeaderReadWriteAndLoseTheMajority(@TempDir Path dir) throws Exception {
        int port = freePort();
        serverBase = freeRange(N, 20000, 26000);
        int sourceBase = freeRange(N * N, 26000, 32000);
        startFrontend(port, sourceBase, dir);
        FrontEndGrpc.FrontEndBlockingStub front = FrontEndGrpc.newBlockingStub(channel("127.0.0.1", port));

        // Bad input and calls before StartRaft get clear errors.
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> front.put(kv("k", "v")));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("StartRaft first"), e::toString);
        e = assertThrows(StatusRuntimeException.class, () -> front.startRaft(IntegerArg.newBuilder().setArg(10).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("must be 1 to 9"), e::toString);

        // Every local address: the front end answers on IPv6 loopback too, where this machine has one.
        if (hasIpv6Loopback()) {
            FrontEndGrpc.FrontEndBlockingStub v6 = FrontEndGrpc.newBlockingStub(channel("::1", port));
            StatusRuntimeException e6 = assertThrows(StatusRuntimeException.class, () -> v6.get(key("k")));
            assertEquals(Status.Code.FAILED_PRECONDITION, e6.getStatus().getCode());
        }

        long t0 = System.nanoTime();
        Reply started = front.startRaft(IntegerArg.newBuilder().setArg(N).build());
        long startRaftMillis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("", started.getError());
        System.out.printf("[test] StartRaft(%d) returned in %d ms%n", N, startRaftMillis);
        Map<Integer, ProcessHandle> servers = await(() -> serverProcesses(), STARTUP, "the 5 server processes");

        int leader = awaitLeader(0, STARTUP);
        System.out.printf("[test] server %d leads, %d ms after StartRaft was called%n", leader, (System.nanoTime() - t0) / 1_000_000);

        assertEquals("", front.put(kv("colour", "blue")).getError());
        assertEquals("blue", front.get(key("colour")).getValue());
        Reply replaced = front.replace(kv("colour", "green"));
        assertEquals("", replaced.getError());
        assertFalse(replaced.getWrongLeader());
        Reply missing = front.replace(kv("shape", "round"));
        assertTrue(missing.getError().contains("no such key"), missing::toString);
        assertTrue(front.get(key("shape")).getError().contains("no such key"));
        // Clients send RequestId 0 every time: the same (ClientId, RequestId) twice is two writes, not a duplicate.
        front.put(kv("n", "1"));
        front.put(kv("n", "2"));
        assertEquals("2", front.get(key("n")).getValue());

        // Each server's KeyValueStore, on its own port: a follower says wrongLeader, the leader serves.
        int follower = leader % N + 1;
        await(() -> { // it may still be starting: the leader needs only a majority
            try {
                return store(follower).withDeadlineAfter(500, TimeUnit.MILLISECONDS).getState(Empty.getDefaultInstance());
            } catch (StatusRuntimeException notYet) {
                channel("127.0.0.1", serverBase + follower).resetConnectBackoff();
                return null;
            }
        }, STARTUP, "server " + follower + " to answer");
        assertTrue(store(follower).put(kv("x", "1")).getWrongLeader());
        Reply onLeader = store(leader).put(kv("x", "1"));
        assertFalse(onLeader.getWrongLeader(), onLeader::toString);
        assertEquals("1", store(leader).get(key("x")).getValue());

        // Kill the leader as the harness does. pkill -f takes an unanchored regular expression: among this front
        // end's servers, raftserver<i> must match server i alone (and never the front end).
        for (int i = 1; i <= N; i++) {
            assertEquals(Set.of(servers.get(i).pid()), matching("raftserver" + i), "pgrep -f raftserver" + i);
        }
        assertFalse(matching("raftserver").contains(frontend.pid()));
        assertEquals(0, run(List.of("pkill", "-KILL", "-P", Long.toString(frontend.pid()), "-f", "raftserver" + leader)));
        await(() -> servers.get(leader).isAlive() ? null : true, Duration.ofSeconds(10), "server " + leader + " to die");
        int oldTerm = leaderTerm(leader);
        long killed = System.nanoTime();
        int next = awaitLeader(leader, NEW_LEADER);
        System.out.printf("[test] server %d leads %d ms after server %d was killed%n", next,
                (System.nanoTime() - killed) / 1_000_000, leader);
        assertNotEquals(leader, next);
        assertTrue(leaderTerm(next) > oldTerm);

        assertEquals("green", front.get(key("colour")).getValue(), "every acknowledged write survives the leader");
        assertEquals("", front.put(kv("after", "kill")).getError());
        assertEquals("", front.replace(kv("after", "kill2")).getError());
        assertEquals("kill2", front.get(key("after")).getValue());

        // Cut three of the five off (the new leader among them): no majority anywhere, so a PUT must fail.
        List<Integer> alive = new ArrayList<>();
        for (int i = 1; i <= N; i++) if (i != leader) alive.add(i);
        List<Integer> cut = new ArrayList<>(List.of(next));
        for (int i : alive) if (cut.size() < 3 && i != next) cut.add(i);
        boolean firewall = iptablesUsable();
        if (firewall) {
            PortPlan plan = new PortPlan(N, serverBase, sourceBase);
            for (int s : cut) {
                for (int d = 1; d <= N; d++) {
                    if (d == s) continue;
                    block(plan.sourcePort(s, d), serverBase + d);
                    block(plan.sourcePort(d, s), serverBase + s);
                }
            }
            System.out.println("[test] servers " + cut + " cut off with iptables");
        } else {
            for (int s : cut) assertEquals(0, run(List.of("pkill", "-KILL", "-P", Long.toString(frontend.pid()), "-f", "raftserver" + s)));
            System.out.println("[test] servers " + cut + " killed (no iptables here, or not root)");
        }
        StatusRuntimeException noMajority = assertThrows(StatusRuntimeException.class, () -> front.put(kv("lost", "x")));
        assertTrue(Set.of(Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE).contains(noMajority.getStatus().getCode()),
                noMajority::toString);

        if (firewall) { // healed, the cluster serves again
            assertEquals(List.of(), removeRules());
            await(() -> {
                try {
                    return front.put(kv("healed", "yes")).getError().isEmpty() ? true : null;
                } catch (StatusRuntimeException retry) {
                    return null;
                }
            }, STARTUP, "a PUT after the links were healed");
            assertEquals("yes", front.get(key("healed")).getValue());
        }
        for (String line : output) assertFalse(line.contains("Exception"), "the front end's output: " + output);
    }

    // ---------------------------------------------------------------- the cluster

    /** The leader (not {@code not}) in the newest term, from GetState on every server; two leaders in one term fail. */
    private int awaitLeader(int not, Duration within) {
        return await(() -> {
            int found = 0;
            int foundTerm = -1;
            for (int i = 1; i <= N; i++) {
                State s;
                try {
                    s = store(i).withDeadlineAfter(500, TimeUnit.MILLISECONDS).getState(Empty.getDefaultInstance());
                } catch (StatusRuntimeException down) {
                    // Not up yet, or killed: ask again at the next poll, not after gRPC's reconnect backoff (1 s and growing).
                    channel("127.0.0.1", serverBase + i).resetConnectBackoff();
                    continue;
                }
                if (!s.getIsLeader()) continue;
                Integer before = leaders.putIfAbsent(s.getTerm(), i);
                if (before != null && before != i) fail("servers " + before + " and " + i + " both lead in term " + s.getTerm());
                if (i != not && s.getTerm() > foundTerm) {
                    found = i;
                    foundTerm = s.getTerm();
                }
            }
            return found == 0 ? null : found;
        }, within, "a leader other than server " + not);
    }

    private int leaderTerm(int server) {
        return leaders.entrySet().stream().filter(e -> e.getValue() == server).mapToInt(Map.Entry::getKey).max().orElseThrow();
    }

    private KeyValueStoreGrpc.KeyValueStoreBlockingStub store(int i) {
        return KeyValueStoreGrpc.newBlockingStub(channel("127.0.0.1", serverBase + i));
    }

    private final Map<String, ManagedChannel> byTarget = new HashMap<>();

    private ManagedChannel channel(String host, int port) {
        return byTarget.computeIfAbsent(host + "/" + port, t -> {
            ManagedChannel c = NettyChannelBuilder.forAddress(new InetSocketAddress(host, port)).usePlaintext().build();
            channels.add(c);
            return c;
        });
    }

    private static KeyValue kv(String k, String v) {
        return KeyValue.newBuilder().setKey(k).setValue(v).setClientId(1).setRequestId(0).build();
    }

    private static GetKey key(String k) {
        return GetKey.newBuilder().setKey(k).setClientId(1).setRequestId(0).build();
    }

    // ---------------------------------------------------------------- processes

    private void startFrontend(int port, int sourceBase, Path dir) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                RaftkvCommand.class.getName(), "frontend", "--port", Integer.toString(port),
                "--server-base-port", Integer.toString(serverBase), "--source-base-port", Integer.toString(sourceBase),
                "--data", dir.toString()); // the default --timeout-ms, 3 s: a Put in 2 s is the harness's figure, not a deadline
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        frontend = p;
        Thread.ofVirtual().name("frontend-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                    System.out.println("[frontend] " + line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        await(() -> output.stream().anyMatch(l -> l.startsWith("frontend serving")) ? true
                : p.isAlive() ? null : fail("the front end exited with " + p.exitValue() + ": " + output),
                STARTUP, "the front end to listen");
    }

    /** Server i's process, for every i, once all have started. */
    private Map<Integer, ProcessHandle> serverProcesses() {
        Map<Integer, ProcessHandle> out = new TreeMap<>();
        frontend.children().forEach(p -> {
            seen.add(p);
            String line = commandLine(p);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("raftserver([0-9]+) ").matcher(line);
            if (m.find()) out.put(Integer.parseInt(m.group(1)), p);
        });
        return out.size() == N ? out : null;
    }

    /**
     * A process's whole command line, its arguments joined by spaces as pgrep -f sees them. Not
     * ProcessHandle.Info.commandLine(): on Linux the JDK reads only the first 4,096 bytes of
     * /proc/PID/cmdline, and a server's name comes after the class path, which the test class path (with
     * the benchmarks' peers on it) makes longer than that.
     */
    private static String commandLine(ProcessHandle p) {
        try {
            byte[] raw = java.nio.file.Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return p.info().commandLine().orElse(""); // no /proc here, or the process has ended
        }
    }

    /** The pids pgrep -f finds for {@code pattern} among the front end's children. */
    private Set<Long> matching(String pattern) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("pgrep", "-f", pattern).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Set<Long> children = frontend.children().map(ProcessHandle::pid).collect(Collectors.toSet());
        children.add(frontend.pid());
        return out.lines().map(String::trim).filter(s -> !s.isEmpty()).map(Long::parseLong).filter(children::contains)
                .collect(Collectors.toSet());
    }

    // ---------------------------------------------------------------- iptables

    private static boolean iptablesUsable() {
        return "root".equals(System.getProperty("user.name")) && run(List.of("iptables", "-S", "OUTPUT")) == 0;
    }

    /** Drops loopback TCP packets from {@code sourcePort} to {@code port}, as the harness does. */
    private synchronized void block(int sourcePort, int port) {
        String[] rule = {"OUTPUT", "-p", "tcp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", Integer.toString(sourcePort),
                "--dport", Integer.toString(port), "-m", "comment", "--comment", RULE_TAG + ProcessHandle.current().pid(), "-j", "DROP"};
        assertEquals(0, run(iptables("-A", rule)), "iptables -A " + String.join(" ", rule));
        rules.add(rule);
    }

    private static List<String> iptables(String op, String[] rule) {
        List<String> cmd = new ArrayList<>(List.of("iptables", op));
        cmd.addAll(List.of(rule));
        return cmd;
    }

    private static int run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1; // not installed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    // ---------------------------------------------------------------- ports and waiting

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A base b such that ports b+1..b+count are free on 127.0.0.1 now, below the ephemeral range. */
    private static int freeRange(int count, int from, int to) {
        SplittableRandom random = new SplittableRandom();
        for (int tries = 0; tries < 50; tries++) {
            int base = random.nextInt(from, to - count - 1);
            List<ServerSocket> held = new ArrayList<>();
            boolean free = true;
            try {
                for (int p = base + 1; p <= base + count; p++) {
                    ServerSocket s = new ServerSocket();
                    held.add(s);
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
                }
            } catch (IOException taken) {
                free = false;
            } finally {
                for (ServerSocket s : held) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // a probe only
                    }
                }
            }
            if (free) return base;
        }
        throw new IllegalStateException("no " + count + " free ports in a row between " + from + " and " + to);
    }

    private static boolean hasIpv6Loopback() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static <T> T await(Supplier<T> condition, Duration within, String what) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            T v = condition.get();
            if (v != null) return v;
            if (System.nanoTime() > deadline) fail("timed out after " + within.toMillis() + " ms waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling other processes: nothing to wait on
        }
    }
}
