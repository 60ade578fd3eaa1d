package io.raftkv.frontend;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.raftkv.frontend.proto.Empty;
import io.raftkv.frontend.proto.FrontEndGrpc;
import io.raftkv.frontend.proto.GetKey;
import io.raftkv.frontend.proto.IntegerArg;
import io.raftkv.frontend.proto.KeyValue;
import io.raftkv.frontend.proto.KeyValueStoreGrpc;
import io.raftkv.frontend.proto.Reply;
import io.raftkv.frontend.proto.State;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code raftkv grpc-client}: one gRPC call, to a front end ({@code startraft}, {@code put}, {@code get},
 * {@code replace}) or to one server's KeyValueStore ({@code --server}: {@code state}, {@code put}, {@code get},
 * {@code replace}); it prints the value read, OK, {@code error: ...} or {@code wrong leader}. Exit status 0 done,
 * 1 a reply with error or wrongLeader set, 2 bad usage, 3 an error status (the cluster could not do it).
 */
@Command(name = "grpc-client", mixinStandardHelpOptions = true,
        description = "Make one gRPC call to a raftkv frontend (startraft N, put K V, get K, replace K V) or, with"
                + " --server, to one server's KeyValueStore (state, put K V, get K, replace K V).")
public final class GrpcClientCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--target", defaultValue = "localhost:8001", paramLabel = "HOST:PORT",
            description = "Where the front end or server listens (default: ${DEFAULT-VALUE}).")
    private String target;

    @Option(names = "--server", description = "Call the KeyValueStore service (one server's) instead of FrontEnd.")
    private boolean server;

    @Option(names = "--timeout-ms", defaultValue = "10000", paramLabel = "MS", description = "The call's deadline (default: ${DEFAULT-VALUE}).")
    private long timeoutMillis;

    @Parameters(index = "0", paramLabel = "CALL", description = "startraft, put, get, replace, or state (with --server).")
    private String call;

    @Parameters(index = "1..*", paramLabel = "ARG", description = "N for startraft; K V for put and replace; K for get.")
    private List<String> args = List.of();

    @Override
    public Integer call() throws InterruptedException {
        NettyNative.off();
        CommandLine cl = spec.commandLine();
        String op = call.toLowerCase(Locale.ROOT);
        int want = switch (op) {
            case "put", "replace" -> 2;
            case "get", "startraft" -> 1;
            case "state" -> 0;
            default -> throw new CommandLine.ParameterException(cl, "Unknown call '" + call + "': expected startraft, put, get, replace or state");
        };
        if (args.size() != want) {
            throw new CommandLine.ParameterException(cl, op + " takes " + want + " argument" + (want == 1 ? "" : "s") + ", got " + args.size());
        }
        if (op.equals("state") && !server) {
            throw new CommandLine.ParameterException(cl, "state is a call to a server's KeyValueStore: add --server");
        }
        if (op.equals("startraft") && server) {
            throw new CommandLine.ParameterException(cl, "startraft is a call to the front end: leave out --server");
        }
        int colon = target.lastIndexOf(':');
        int port;
        try {
            port = Integer.parseInt(target.substring(colon + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            port = -1;
        }
        if (colon < 1 || port < 1 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--target': '" + target + "'; expected HOST:PORT");
        }
        String host = target.substring(0, colon).replace("[", "").replace("]", "");
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        ManagedChannel channel = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
        try {
            Object reply;
            if (server) {
                KeyValueStoreGrpc.KeyValueStoreBlockingStub s = KeyValueStoreGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
                reply = switch (op) {
                    case "state" -> s.getState(Empty.getDefaultInstance());
                    case "put" -> s.put(keyValue());
                    case "replace" -> s.replace(keyValue());
                    default -> s.get(GetKey.newBuilder().setKey(args.get(0)).build());
                };
            } else {
                FrontEndGrpc.FrontEndBlockingStub f = FrontEndGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
                reply = switch (op) {
                    case "startraft" -> {
                        int n;
                        try {
                            n = Integer.parseInt(args.get(0));
                        } catch (NumberFormatException e) {
                            throw new CommandLine.ParameterException(cl, "startraft takes a number of servers, not '" + args.get(0) + "'");
                        }
                        yield f.startRaft(IntegerArg.newBuilder().setArg(n).build());
                    }
                    case "put" -> f.put(keyValue());
                    case "replace" -> f.replace(keyValue());
                    default -> f.get(GetKey.newBuilder().setKey(args.get(0)).build());
                };
            }
            out.println(switch (reply) {
                case State s -> "term " + s.getTerm() + (s.getIsLeader() ? ", leader" : ", not leader");
                case Reply r when r.getWrongLeader() -> "wrong leader";
                case Reply r when !r.getError().isEmpty() -> "error: " + r.getError();
                case Reply r when op.equals("get") -> r.getValue();
                default -> "OK";
            });
            out.flush();
            return reply instanceof Reply r && (r.getWrongLeader() || !r.getError().isEmpty()) ? 1 : 0;
        } catch (StatusRuntimeException e) {
            err.println("raftkv grpc-client: " + op + " failed: " + e.getStatus().getCode()
                    + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription())
                    + (e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
                        ? " (is a " + (server ? "server" : "front end") + " listening on " + target + "?)" : ""));
            return 3;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private KeyValue keyValue() {
        return KeyValue.newBuilder().setKey(args.get(0)).setValue(args.get(1)).build();
    }
}
