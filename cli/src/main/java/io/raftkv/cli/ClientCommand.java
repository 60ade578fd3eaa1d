package io.raftkv.cli;

import io.raftkv.client.ClientException;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.kv.net.MembershipOp;
import io.raftkv.kv.net.TcpKvConnector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code raftkv client}: one request to a cluster in socket mode, from any machine that reaches its nodes. */
@Command(name = "client", mixinStandardHelpOptions = true,
        description = "Send one request to a cluster in socket mode: put KEY VALUE | get KEY | replace KEY VALUE | status"
                + " | members | add-node ID | remove-node ID | transfer-leader ID.",
        footer = "Exit status: 0 done; 1 get found no key, or replace found none to replace; 2 bad usage;"
                + " 3 the cluster could not be reached or did not confirm in time; 4 the cluster refused the request"
                + " (another cluster id, a value over the limits, an expired session); 70 an internal error.")
public final class ClientCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--peers", required = true, paramLabel = "ID=HOST:PORT,...", converter = PeerList.Converter.class,
            description = "The cluster's nodes and addresses, as given to raftkv node.")
    private PeerList peers;

    @Option(names = "--cluster-id", defaultValue = "raftkv", paramLabel = "NAME",
            description = "The cluster's id, as given to raftkv node (default: ${DEFAULT-VALUE}).")
    private String clusterId;

    @Option(names = "--timeout-ms", defaultValue = "5000", paramLabel = "MS",
            description = "How long the request may take, retries and leader changes included (default: ${DEFAULT-VALUE}).")
    private long timeoutMillis;

    @Parameters(paramLabel = "COMMAND", arity = "1..3", description = "put KEY VALUE | get KEY | replace KEY VALUE | status"
            + " | members | add-node ID (a learner, then a voter once caught up; ID must be in --peers) | remove-node ID"
            + " | transfer-leader ID")
    private List<String> words;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        if (timeoutMillis < 1) throw new CommandLine.ParameterException(cl, "Invalid value for option '--timeout-ms': must be >= 1");
        String op = words.get(0);
        int want = switch (op) {
            case "put", "replace" -> 3;
            case "get" -> 2;
            case "status", "members" -> 1;
            case "add-node", "remove-node", "transfer-leader" -> 2;
            default -> throw new CommandLine.ParameterException(cl, "Unknown command '" + op
                    + "': expected put KEY VALUE, get KEY, replace KEY VALUE, status, members, add-node ID,"
                    + " remove-node ID or transfer-leader ID");
        };
        if (words.size() != want) {
            throw new CommandLine.ParameterException(cl, op + " takes " + (want - 1) + " argument" + (want == 2 ? "" : "s")
                    + ", got " + (words.size() - 1) + ": " + String.join(" ", words));
        }
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        Duration timeout = Duration.ofMillis(timeoutMillis);
        try (TcpKvConnector connector = new TcpKvConnector(peers.addresses(), clusterId)) {
            if (op.equals("status")) return status(connector, timeout, out);
            MembershipOp membership = switch (op) {
                case "members" -> MembershipOp.MEMBERS;
                case "add-node" -> MembershipOp.ADD_VOTER;
                case "remove-node" -> MembershipOp.REMOVE;
                case "transfer-leader" -> MembershipOp.TRANSFER;
                default -> null;
            };
            if (membership != null) {
                int node = 0;
                if (words.size() > 1) {
                    try {
                        node = Integer.parseInt(words.get(1));
                    } catch (NumberFormatException e) {
                        throw new CommandLine.ParameterException(cl, op + " takes a node id, got '" + words.get(1) + "'");
                    }
                    if (!peers.addresses().containsKey(node)) {
                        throw new CommandLine.ParameterException(cl, "node " + node + " is not in --peers "
                                + peers.addresses().keySet() + "; every node's address must be known to the cluster");
                    }
                }
                out.println(connector.membership(membership, node, timeout));
                return 0;
            }
            try (KvClient client = new KvClient(connector, KvLimits.DEFAULT, timeout,
                    timeout.compareTo(Duration.ofMillis(500)) < 0 ? timeout : Duration.ofMillis(500))) {
                switch (op) {
                    case "put" -> {
                        client.put(words.get(1), words.get(2));
                        out.println("OK");
                    }
                    case "get" -> {
                        Optional<String> v = client.get(words.get(1));
                        if (v.isEmpty()) {
                            err.println("no key " + words.get(1));
                            return 1;
                        }
                        out.println(v.get());
                    }
                    default -> {
                        if (!client.replace(words.get(1), words.get(2))) {
                            err.println("not replaced: no key " + words.get(1));
                            return 1;
                        }
                        out.println("replaced");
                    }
                }
                return 0;
            }
        } catch (OutcomeUnknownException e) {
            err.println("raftkv client: " + e.getMessage());
            return 3;
        } catch (IllegalArgumentException | NullPointerException e) {
            err.println("raftkv client: " + e.getMessage());
            return 2;
        } catch (ClientException e) {
            err.println("raftkv client: " + e.getMessage());
            return 4;
        }
    }

    private int status(TcpKvConnector connector, Duration timeout, PrintWriter out) {
        StatusTable table = new StatusTable(out);
        int reached = 0;
        for (int id : connector.nodes()) {
            try {
                table.row(connector.status(id, timeout));
                reached++;
            } catch (KvException e) {
                table.unreachable(id, e.getMessage());
            }
        }
        return reached > 0 ? 0 : 3;
    }
}
