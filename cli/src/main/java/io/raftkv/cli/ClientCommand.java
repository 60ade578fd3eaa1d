package io.raftkv.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code raftkv client}: one request to a cluster in socket mode, from any machine that reaches its nodes.
 * Each request is a verb of {@link ClientVerbs}; the options they share go before or after the verb.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
        description = {"Send one request to a cluster in socket mode. The options go before the command"
                + " (raftkv client --peers ... get KEY) or after it; 'raftkv client COMMAND --help' tells more."},
        subcommands = {ClientVerbs.Put.class, ClientVerbs.Get.class, ClientVerbs.Replace.class, ClientVerbs.Delete.class,
                ClientVerbs.CompareAndSet.class,
                ClientVerbs.Status.class, ClientVerbs.Members.class, ClientVerbs.AddNode.class,
                ClientVerbs.RemoveNode.class, ClientVerbs.TransferLeader.class, ClientVerbs.Snapshot.class},
        footer = {"", ClientCommand.EXIT_STATUS})
public final class ClientCommand implements Callable<Integer> {
    /** Every verb's footer: what its exit status means. */
    static final String EXIT_STATUS = "Exit status: 0 done; 1 get found no key, replace or del none, or cas another value;"
            + " 2 bad usage (a key or value over the client's limits included); 3 the cluster could not be reached or did"
            + " not confirm in time; 4 the cluster refused the request (another cluster id, a value over the node's limits,"
            + " an expired session, an admin request without the cluster's admin token, a del, cas or add-node --address"
            + " while the cluster's feature level is below 2); 70 an internal error.";

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions options;

    // Not a command: caught here to name the commands there are, rather than picocli's "unmatched argument".
    @Parameters(hidden = true)
    private List<String> unknown = List.of();

    private final Function<String, String> env;

    /** With the environment variables {@code env} shows (the process's are {@code System::getenv}). */
    ClientCommand(Function<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    ClientOptions options() {
        return options;
    }

    Function<String, String> env() {
        return env;
    }

    /** No command: the usage, as {@code raftkv} alone prints its own; a word that is not a command: status 2. */
    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        if (!unknown.isEmpty()) {
            List<String> names = cl.getSubcommands().keySet().stream().toList();
            throw new CommandLine.ParameterException(cl, "Unknown command '" + unknown.getFirst() + "': expected "
                    + String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.getLast());
        }
        cl.usage(cl.getOut());
        return 0;
    }
}
