package io.raftkv.frontend;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The server processes of one cluster a front end started: server i runs {@code raftkv grpc-server
 * raftserver<i>} in a JVM of its own, with its data in {@code <root>/server-<i>} and its output in
 * {@code <root>/server-<i>.log}.
 *
 * <p>The command line names the server exactly once, as the argument {@code raftserver<i>} followed by a
 * space, and nothing else in it contains "raftserver" (checked, since the java path, class path or data
 * directory could): so {@code pkill -f raftserver<i>}, an unanchored regular expression over the whole
 * command line, matches server i and no other; with at most 9 servers no name is a prefix of another.
 */
final class ServerProcesses implements AutoCloseable {
    static final String NAME_PREFIX = "raftserver";

    private final List<Process> processes;
    private final PortPlan plan;

    private ServerProcesses(List<Process> processes, PortPlan plan) {
        this.processes = processes;
        this.plan = plan;
    }

    /** How to start a server: the JVM and its arguments, the class path, and options passed to every server. */
    record Launch(String java, List<String> jvmOptions, String classPath, List<String> serverOptions) {
        /** This JVM's java and class path. */
        static Launch ofThisJvm(List<String> serverOptions) {
            String java = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            // Small, quick-starting JVMs: several start at once on a machine that may have 2 cores, and a
            // leader is expected within 5 s of StartRaft, the JVMs' start included.
            List<String> jvm = new ArrayList<>(List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Xss512k"));
            jvm.addAll(loggingOptions());
            return new Launch(java, List.copyOf(jvm), System.getProperty("java.class.path"), List.copyOf(serverOptions));
        }

        /**
         * This JVM's logging set-up, as {@code -D} options, so that the servers' logs look like the front end's:
         * the format the command line set (or the user gave), and the user's logging configuration.
         */
        static List<String> loggingOptions() {
            List<String> options = new ArrayList<>();
            for (String key : List.of("java.util.logging.SimpleFormatter.format", "jdk.system.logger.format",
                    "java.util.logging.config.file", "java.util.logging.config.class")) {
                String value = System.getProperty(key);
                if (value != null) options.add("-D" + key + "=" + value);
            }
            return options;
        }

        /** This launch with {@code more} JVM options after its own. */
        Launch withJvmOptions(List<String> more) {
            if (more.isEmpty()) return this;
            List<String> all = new ArrayList<>(jvmOptions);
            all.addAll(more);
            return new Launch(java, List.copyOf(all), classPath, serverOptions);
        }

        List<String> command(PortPlan plan, int id, Path dataDir) {
            List<String> cmd = new ArrayList<>();
            cmd.add(java);
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-cp", classPath, RaftServerCommand.class.getName())); // = raftkv grpc-server
            String name = NAME_PREFIX + id;
            cmd.add(name);
            cmd.addAll(List.of("--servers", Integer.toString(plan.servers()),
                    "--server-base-port", Integer.toString(plan.serverBase()),
                    "--source-base-port", Integer.toString(plan.sourceBase()),
                    "--data", dataDir.toString(), "--parent", Long.toString(ProcessHandle.current().pid())));
            cmd.addAll(serverOptions);
            for (String arg : cmd) {
                if (!arg.equals(name) && arg.contains(NAME_PREFIX)) {
                    throw new IllegalArgumentException("a server's command line must contain '" + NAME_PREFIX
                            + "' only in its name, so that pkill -f " + name + " kills it alone; but it would also be in '"
                            + arg + "' (move or rename what holds it)");
                }
            }
            return cmd;
        }
    }

    /**
     * Starts servers 1 to n of {@code plan} afresh (their data directories emptied) and returns at once,
     * without waiting for them to run.
     */
    static ServerProcesses start(PortPlan plan, Path root, Launch launch) {
        List<List<String>> commands = new ArrayList<>();
        for (int id = 1; id <= plan.servers(); id++) commands.add(launch.command(plan, id, root.resolve("server-" + id)));
        // In parallel: each start waits for the JVM's exec to succeed, which on a loaded machine takes a while,
        // and StartRaft is expected to return at once.
        List<CompletableFuture<Process>> starting = new ArrayList<>();
        for (int id = 1; id <= plan.servers(); id++) {
            int i = id;
            CompletableFuture<Process> f = new CompletableFuture<>();
            Thread.ofPlatform().name("raftkv-start-server-" + id).daemon().start(() -> {
                try {
                    Path dir = root.resolve("server-" + i);
                    deleteRecursively(dir);
                    Files.createDirectories(dir);
                    File log = root.resolve("server-" + i + ".log").toFile();
                    f.complete(new ProcessBuilder(commands.get(i - 1)).redirectErrorStream(true).redirectOutput(log).start());
                } catch (IOException | RuntimeException e) {
                    f.completeExceptionally(e);
                }
            });
            starting.add(f);
        }
        List<Process> started = new ArrayList<>();
        Throwable failure = null;
        for (CompletableFuture<Process> f : starting) {
            try {
                started.add(f.join());
            } catch (CompletionException e) {
                failure = e.getCause();
            }
        }
        if (failure != null) {
            new ServerProcesses(started, plan).close();
            throw new UncheckedIOException("cannot start the servers in " + root + ": " + failure.getMessage(),
                    failure instanceof IOException io ? io : new IOException(failure));
        }
        return new ServerProcesses(List.copyOf(started), plan);
    }

    PortPlan plan() {
        return plan;
    }

    /** Kills every server (SIGKILL, as a crash) and waits for them to be gone, so that their ports are free. */
    @Override
    public void close() {
        for (Process p : processes) p.destroyForcibly();
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
