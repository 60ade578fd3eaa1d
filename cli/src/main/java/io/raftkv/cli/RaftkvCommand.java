package io.raftkv.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** The {@code raftkv} command line; its subcommands do the work. */
@Command(name = "raftkv", mixinStandardHelpOptions = true, version = "raftkv 0.1.0-SNAPSHOT",
        description = "A Raft consensus library and replicated key-value store.",
        subcommands = CommandLine.HelpCommand.class)
public final class RaftkvCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        LogFormat.holdLogsAtExit(); // before any logger exists: what a node logs as it stops is not lost
        LogFormat.useOneLine(); // before any logger exists: node logs get a time on every line
        // A thread that dies on an exception is a log record with its time, not the JVM's bare stack trace.
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> System.getLogger(RaftkvCommand.class.getName())
                .log(System.Logger.Level.ERROR, "thread " + t.getName() + " stopped on an exception", e));
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, Charset.defaultCharset()));
        System.exit(commandLine(stdin, ClusterCommand.isTerminal()).execute(args));
    }

    /**
     * The whole command line, with {@code cluster}'s shell reading from {@code in}; it prints a prompt
     * only if {@code interactive}.
     */
    public static CommandLine commandLine(BufferedReader in, boolean interactive) {
        return commandLine(in, interactive, System::getenv);
    }

    /** As {@link #commandLine(BufferedReader, boolean)}, with the environment variables {@code env} shows. */
    static CommandLine commandLine(BufferedReader in, boolean interactive, Function<String, String> env) {
        CommandLine cl = new CommandLine(new RaftkvCommand());
        cl.addSubcommand("cluster", new ClusterCommand(in, interactive));
        cl.addSubcommand("node", new NodeCommand());
        cl.addSubcommand("client", new ClientCommand(env));
        cl.addSubcommand("bench", new BenchCommand());
        // The gRPC front end (src/frontend) is in the command-line jar, not in the library's: add it where it is.
        addIfPresent(cl, "frontend", "io.raftkv.frontend.FrontendCommand");
        addIfPresent(cl, "grpc-server", "io.raftkv.frontend.RaftServerCommand");
        // The front end starts its servers as raftkv grpc-server processes: it runs, but a person never types it.
        hide(cl, "grpc-server");
        addIfPresent(cl, "grpc-client", "io.raftkv.frontend.GrpcClientCommand");
        cl.setParameterExceptionHandler(RaftkvCommand::shortError);
        // A bug must not look like an answer (exit 1 is "no such key" for raftkv client): one line, status 70.
        cl.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("raftkv " + command.getCommandName() + ": internal error: " + e);
            command.getErr().flush();
            return 70;
        });
        return cl;
    }

    private static void addIfPresent(CommandLine cl, String name, String className) {
        Object command;
        try {
            command = Class.forName(className).getConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            return;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make the " + name + " command", e);
        }
        cl.addSubcommand(name, command);
    }

    private static void hide(CommandLine cl, String name) {
        CommandLine sub = cl.getSubcommands().get(name);
        if (sub != null) sub.getCommandSpec().usageMessage().hidden(true);
    }

    /**
     * A bad option gets its one-line message and a pointer to the help, not picocli's default of the
     * whole usage text, in which the message is easy to miss; exit status 2.
     */
    private static int shortError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(e.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
            err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for the options.");
        }
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** {@code raftkv} alone prints the usage, as {@code raftkv --help} does (and etcdctl and kubectl): status 0. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }
}
