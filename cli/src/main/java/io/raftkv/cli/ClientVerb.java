package io.raftkv.cli;

import io.raftkv.client.ClientException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.AdminAccess;
import io.raftkv.kv.net.TcpKvConnector;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * One verb of {@code raftkv client}: a subclass declares its arguments and says in {@link #run()} what it
 * asks and what it prints; the shared options, the connection and the exit statuses of failures are here.
 */
abstract class ClientVerb implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ParentCommand
    private ClientCommand client;

    @Mixin
    private ClientOptions options;

    private ClientOptions.Settings settings;
    private TcpKvConnector connector;
    private KvClient kv;

    /** Checks the verb's arguments against the settings, before anything is sent; throws a usage error. */
    void check(ClientOptions.Settings settings) {}

    /** Sends the request and prints the answer; returns the exit status (0, or 1 for "not found"). */
    abstract int run();

    @Override
    public final Integer call() {
        CommandLine cl = spec.commandLine();
        PrintWriter err = cl.getErr();
        if (!options.peersGiven(client.options(), client.env())) {
            err.println("raftkv client: no cluster given: use --peers ID=HOST:PORT,... or set "
                    + ClientOptions.PEERS_VARIABLE);
            return 2;
        }
        settings = options.settings(client.options(), client.env(), cl);
        check(settings);
        // Following the members: a cluster that has changed since --peers was written is still reached.
        try (TcpKvConnector c = new TcpKvConnector(settings.peers().addresses(), settings.clusterId()).tls(settings.tls())
                .followMembership()) {
            connector = c;
            return run();
        } catch (OutcomeUnknownException e) {
            return fail(3, e);
        } catch (IllegalArgumentException | NullPointerException e) {
            return fail(2, e); // refused before sending: a key or value over the limits
        } catch (ClientException e) {
            return fail(4, e);
        } finally {
            if (kv != null) kv.close();
            cl.getOut().flush();
            err.flush();
        }
    }

    private int fail(int status, RuntimeException e) {
        spec.commandLine().getErr().println("raftkv client: " + e.getMessage());
        return status;
    }

    ClientOptions.Settings settings() {
        return settings;
    }

    TcpKvConnector connector() {
        return connector;
    }

    /**
     * The admin token in --admin-token-file (or the file $RAFTKV_ADMIN_TOKEN_FILE names), or null if neither
     * names one; read only by the verbs that present it, so that a token file elsewhere never stops a get.
     *
     * @throws CommandLine.ParameterException if the file cannot be read or is empty
     */
    String adminToken() {
        if (settings.adminTokenFile() == null) return null;
        try {
            return AdminAccess.readToken(settings.adminTokenFile());
        } catch (UncheckedIOException | IllegalArgumentException e) {
            throw usage("Invalid value for option '--admin-token-file': " + e.getMessage());
        }
    }

    /** A key-value client over the connection, made on first use. */
    KvClient kv() {
        if (kv == null) {
            Duration timeout = settings.timeout();
            Duration attempt = timeout.compareTo(Duration.ofMillis(500)) < 0 ? timeout : Duration.ofMillis(500);
            kv = new KvClient(connector, KvLimits.DEFAULT, timeout, attempt);
        }
        return kv;
    }

    /** Prints the answer, {@code simple} or {@code json} as --output says, on standard output: status 0. */
    int done(String simple, String json) {
        spec.commandLine().getOut().println(settings.json() ? json : simple);
        return 0;
    }

    /**
     * There was nothing to read or replace: status 1. A person is told on standard error; in json the
     * answer goes to standard output as any other.
     */
    int nothing(String simple, String json) {
        if (settings.json()) spec.commandLine().getOut().println(json);
        else spec.commandLine().getErr().println(simple);
        return 1;
    }

    /** A usage error of this verb: status 2 and one line, before anything is sent. */
    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
