package io.raftkv.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.util.concurrent.Callable;

/** The {@code raftkv} command line; its subcommands do the work. */
@Command(name = "raftkv", mixinStandardHelpOptions = true, version = "raftkv 0.1.0-SNAPSHOT",
        description = "A Raft consensus library and replicated key-value store.",
        subcommands = CommandLine.HelpCommand.class)
public final class RaftkvCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, Charset.defaultCharset()));
        System.exit(commandLine(stdin, ClusterCommand.isTerminal()).execute(args));
    }

    /**
     * The whole command line, with {@code cluster}'s shell reading from {@code in}; it prints a prompt
     * only if {@code interactive}. Subcommands for socket mode ({@code node}, {@code client}) and
     * {@code bench} are to be added here.
     */
    public static CommandLine commandLine(BufferedReader in, boolean interactive) {
        CommandLine cl = new CommandLine(new RaftkvCommand());
        cl.addSubcommand("cluster", new ClusterCommand(in, interactive));
        cl.addSubcommand("node", new NodeCommand());
        cl.addSubcommand("client", new ClientCommand());
        return cl;
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: try 'raftkv cluster'");
    }
}
