package io.raftkv.cli;

import io.raftkv.transport.TlsConfig;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * The options every {@code raftkv client} verb shares. They are on {@code raftkv client} and on each verb,
 * so both {@code raftkv client --peers P get k} (as etcdctl has them) and {@code raftkv client get --peers P k}
 * work; given in both places, the verb's wins. No default here: {@link #settings} fills in what neither gave.
 */
final class ClientOptions {
    /** The environment variable {@code --peers} defaults to, as etcdctl's endpoints do to ETCDCTL_ENDPOINTS. */
    static final String PEERS_VARIABLE = "RAFTKV_PEERS";
    /** The environment variable {@code --admin-token-file} defaults to. */
    static final String ADMIN_TOKEN_VARIABLE = "RAFTKV_ADMIN_TOKEN_FILE";
    /** The environment variables the TLS options default to, as etcdctl's do to ETCDCTL_CACERT and the like. */
    static final String TLS_CA_VARIABLE = "RAFTKV_TLS_CA";
    static final String TLS_CERT_VARIABLE = "RAFTKV_TLS_CERT";
    static final String TLS_KEY_VARIABLE = "RAFTKV_TLS_KEY";
    static final String DEFAULT_CLUSTER_ID = "raftkv";
    static final long DEFAULT_TIMEOUT_MILLIS = 5_000;

    @Option(names = "--peers", paramLabel = "ID=HOST:PORT,...", converter = PeerList.Converter.class,
            description = "The cluster's nodes and addresses, as given to raftkv node (default: $" + PEERS_VARIABLE + ").")
    private PeerList peers;

    @Option(names = "--cluster-id", paramLabel = "NAME",
            description = "The cluster's id, as given to raftkv node (default: " + DEFAULT_CLUSTER_ID + ").")
    private String clusterId;

    @Option(names = "--timeout-ms", paramLabel = "MS",
            description = "How long the request may take, retries and leader changes included (default: "
                    + DEFAULT_TIMEOUT_MILLIS + ").")
    private Long timeoutMillis;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "A file that holds the cluster's admin token, as given to raftkv node: add-node, remove-node,"
                    + " transfer-leader and snapshot save present it (default: $" + ADMIN_TOKEN_VARIABLE + ").")
    private Path adminTokenFile;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "Speak TLS, trusting these certificates (the cluster's CA; PEM or PKCS#12) (default: $"
                    + TLS_CA_VARIABLE + ").")
    private Path tlsCa;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Over TLS, present this certificate (PEM with --tls-key, or PKCS#12 .p12): one the cluster"
                    + " trusts makes the client an administrator (default: $" + TLS_CERT_VARIABLE + ").")
    private Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The PEM private key of --tls-cert (default: $" + TLS_KEY_VARIABLE + ").")
    private Path tlsKey;

    @Option(names = "--tls-password-file", paramLabel = "FILE",
            description = "A file that holds the password of a PKCS#12 --tls-cert.")
    private Path tlsPasswordFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT",
            description = "simple (text for people) or json (one JSON value on standard output) (default: simple).")
    private String output;

    /** What a request goes by: this command's options, then {@code outer}'s (raftkv client's), then the defaults. */
    record Settings(PeerList peers, String clusterId, Duration timeout, boolean json, Path adminTokenFile, TlsConfig tls) {}

    /** Whether this command, {@code outer} or the environment names the peers. */
    boolean peersGiven(ClientOptions outer, Function<String, String> env) {
        String fromEnv = env.apply(PEERS_VARIABLE);
        return peers != null || outer.peers != null || fromEnv != null && !fromEnv.isBlank();
    }

    /**
     * The settings of this command under {@code outer}, the peers from {@code env} if neither names them
     * (check {@link #peersGiven} first).
     *
     * @throws CommandLine.ParameterException for a value out of range or one that does not parse
     */
    Settings settings(ClientOptions outer, Function<String, String> env, CommandLine cl) {
        PeerList p = peers != null ? peers : outer.peers;
        if (p == null) {
            String fromEnv = env.apply(PEERS_VARIABLE);
            try {
                p = PeerList.parse(fromEnv);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "Invalid value of " + PEERS_VARIABLE + ": " + e.getMessage());
            }
        }
        String id = clusterId != null ? clusterId : outer.clusterId != null ? outer.clusterId : DEFAULT_CLUSTER_ID;
        long ms = timeoutMillis != null ? timeoutMillis : outer.timeoutMillis != null ? outer.timeoutMillis
                : DEFAULT_TIMEOUT_MILLIS;
        if (ms < 1) throw new CommandLine.ParameterException(cl, "Invalid value for option '--timeout-ms': must be >= 1");
        String format = output != null ? output : outer.output != null ? outer.output : "simple";
        if (!format.equals("simple") && !format.equals("json")) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--output': '" + format
                    + "'; expected simple or json");
        }
        Path tokenFile = adminTokenFile != null ? adminTokenFile : outer.adminTokenFile;
        String tokenFromEnv = env.apply(ADMIN_TOKEN_VARIABLE);
        if (tokenFile == null && tokenFromEnv != null && !tokenFromEnv.isBlank()) tokenFile = Path.of(tokenFromEnv.strip());
        TlsFiles files = new TlsFiles(first(tlsCert, outer.tlsCert, env, TLS_CERT_VARIABLE),
                first(tlsKey, outer.tlsKey, env, TLS_KEY_VARIABLE), first(tlsCa, outer.tlsCa, env, TLS_CA_VARIABLE),
                tlsPasswordFile != null ? tlsPasswordFile : outer.tlsPasswordFile);
        TlsConfig tls;
        try {
            tls = files.load(false);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "Invalid TLS options: " + e.getMessage());
        }
        return new Settings(p, id, Duration.ofMillis(ms), format.equals("json"), tokenFile, tls);
    }

    /** This command's value, else {@code outer}'s, else the file the environment variable names, else null. */
    private static Path first(Path mine, Path outer, Function<String, String> env, String variable) {
        if (mine != null) return mine;
        if (outer != null) return outer;
        String fromEnv = env.apply(variable);
        return fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv.strip());
    }
}
