package io.raftkv.cli;

import io.raftkv.kv.KvException;
import io.raftkv.kv.net.BackupFile;
import io.raftkv.kv.net.MemberAddress;
import io.raftkv.kv.net.MembershipOp;
import io.raftkv.node.NodeStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.raftkv.cli.JsonText.object;

/**
 * The verbs of {@code raftkv client}, one small class each: its arguments, the request, and the answer
 * as text and as JSON. A new verb is one more class here, listed in {@link ClientCommand}'s subcommands.
 */
final class ClientVerbs {
    private ClientVerbs() {}

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Set KEY to VALUE; prints OK.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Put extends ClientVerb {
        @Parameters(index = "0", paramLabel = "KEY")
        private String key;

        @Parameters(index = "1", paramLabel = "VALUE")
        private String value;

        @Override
        int run() {
            kv().put(key, value);
            return done("OK", object("key", key, "put", true));
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print KEY's value (a linearizable read); with no such key, exit status 1.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Get extends ClientVerb {
        @Parameters(index = "0", paramLabel = "KEY")
        private String key;

        @Override
        int run() {
            Optional<String> v = kv().get(key);
            if (v.isEmpty()) return nothing("no key " + key, object("key", key, "found", false));
            return done(v.get(), object("key", key, "found", true, "value", v.get()));
        }
    }

    @Command(name = "replace", mixinStandardHelpOptions = true,
            description = "Set KEY to VALUE only if KEY exists; prints replaced, or exits with status 1.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Replace extends ClientVerb {
        @Parameters(index = "0", paramLabel = "KEY")
        private String key;

        @Parameters(index = "1", paramLabel = "VALUE")
        private String value;

        @Override
        int run() {
            if (!kv().replace(key, value)) {
                return nothing("not replaced: no key " + key, object("key", key, "replaced", false));
            }
            return done("replaced", object("key", key, "replaced", true));
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true,
            description = "Remove KEY; prints deleted, or exits with status 1 if KEY held no value.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Delete extends ClientVerb {
        @Parameters(index = "0", paramLabel = "KEY")
        private String key;

        @Override
        int run() {
            if (!kv().delete(key)) return nothing("not deleted: no key " + key, object("key", key, "deleted", false));
            return done("deleted", object("key", key, "deleted", true));
        }
    }

    @Command(name = "cas", mixinStandardHelpOptions = true,
            description = {"Compare and set: set KEY to NEW only if it holds EXPECTED (with --absent, only if KEY"
                    + " holds no value; then give KEY NEW only). Prints set, or exits with status 1 if KEY held"
                    + " something else. Retried after a lost answer, it is still applied once."},
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class CompareAndSet extends ClientVerb {
        @Option(names = "--absent", description = "Set KEY only if it holds no value.")
        private boolean absent;

        @Parameters(paramLabel = "KEY EXPECTED NEW", arity = "2..3",
                description = "KEY EXPECTED NEW, or KEY NEW with --absent.")
        private List<String> words;

        @Override
        void check(ClientOptions.Settings settings) {
            if (words.size() != (absent ? 2 : 3)) {
                throw usage(absent ? "cas --absent takes KEY NEW, got " + words.size() + " arguments"
                        : "cas takes KEY EXPECTED NEW (or --absent KEY NEW), got " + words.size() + " arguments");
            }
        }

        @Override
        int run() {
            int want = absent ? 2 : 3;
            String key = words.get(0);
            String expected = absent ? null : words.get(1);
            String value = words.get(want - 1);
            if (!kv().compareAndSet(key, expected, value)) {
                String why = absent ? key + " holds a value" : key + " does not hold " + expected;
                return nothing("not set: " + why, object("key", key, "set", false));
            }
            return done("set", object("key", key, "set", true));
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Ask every node in --peers about itself: role, term, leader, last, commit and applied"
                    + " index; one line each (json: an array of one object per node). Exit status 3 if none answers."},
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Status extends ClientVerb {
        @Override
        int run() {
            StringWriter text = new StringWriter();
            StatusTable table = new StatusTable(new PrintWriter(text));
            List<String> json = new ArrayList<>();
            int reached = 0;
            for (int id : connector().nodes()) {
                try {
                    NodeStatus s = connector().status(id, settings().timeout());
                    table.row(s);
                    json.add(object("id", s.id(), "reachable", true, "alive", s.alive(), "role", roleName(s),
                            "term", s.term(), "leader", s.leader() == 0 ? null : s.leader(), "lastIndex", s.lastIndex(),
                            "commitIndex", s.commitIndex(), "appliedIndex", s.appliedIndex()));
                    reached++;
                } catch (KvException e) {
                    table.unreachable(id, e.getMessage());
                    json.add(object("id", id, "reachable", false, "error", e.getMessage()));
                }
            }
            done(text.toString().stripTrailing(), "[" + String.join(",", json) + "]");
            return reached > 0 ? 0 : 3;
        }

        private static String roleName(NodeStatus s) {
            return s.role().name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    @Command(name = "members", mixinStandardHelpOptions = true,
            description = "Print the configuration in force: voters and learners.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Members extends ClientVerb {
        @Override
        int run() {
            String configuration = connector().membership(MembershipOp.MEMBERS, 0, settings().timeout());
            return done(configuration, configurationJson(configuration));
        }
    }

    @Command(name = "add-node", mixinStandardHelpOptions = true,
            description = {"Make node ID a voter: it joins as a learner and is promoted once it has caught up."
                    + " With --address, the configuration keeps where it listens and every member learns it from"
                    + " there; without, ID must be in --peers, as in every node's. Prints the configuration afterwards."},
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class AddNode extends MembershipVerb {
        @Option(names = "--address", paramLabel = "HOST:PORT", description = "The address node ID listens on.")
        private String address;

        AddNode() {
            super(MembershipOp.ADD_VOTER);
        }

        @Override
        void check(ClientOptions.Settings settings) {
            if (address == null) {
                if (!settings.peers().addresses().containsKey(node)) {
                    throw usage("node " + node + " is not in --peers " + settings.peers().addresses().keySet()
                            + "; give its --address, or name it in every node's --peers");
                }
                return;
            }
            try {
                MemberAddress.parse(address);
            } catch (IllegalArgumentException e) {
                throw usage("--address: " + e.getMessage());
            }
        }

        @Override
        int run() {
            if (address == null) return super.run();
            String configuration = connector().addVoterAt(node, MemberAddress.parse(address), settings().timeout());
            return done(configuration, configurationJson(configuration));
        }
    }

    @Command(name = "remove-node", mixinStandardHelpOptions = true,
            description = "Take node ID out of the configuration; prints the configuration afterwards.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class RemoveNode extends MembershipVerb {
        RemoveNode() {
            super(MembershipOp.REMOVE);
        }
    }

    @Command(name = "transfer-leader", mixinStandardHelpOptions = true,
            description = "Hand leadership to voter ID and wait until it leads; prints the configuration.",
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class TransferLeader extends MembershipVerb {
        TransferLeader() {
            super(MembershipOp.TRANSFER);
        }
    }

    @Command(name = "snapshot", mixinStandardHelpOptions = true,
            description = {"snapshot save FILE: back up the cluster's state to FILE. The leader confirms the backup as"
                    + " a linearizable read (it holds every write acknowledged before) and sends its state as of the"
                    + " index it has applied; FILE is written aside, forced, then renamed, with a header naming the"
                    + " index, term and cluster id, and a CRC. An admin request: see --admin-token-file. Start a new"
                    + " cluster from it with raftkv node --restore FILE. Prints what it saved; a FILE that cannot be"
                    + " written is status 2."},
            footer = {"", ClientCommand.EXIT_STATUS})
    static final class Snapshot extends ClientVerb {
        @Parameters(index = "0", paramLabel = "save", description = "save: the only snapshot command.")
        private String action;

        @Parameters(index = "1", paramLabel = "FILE", description = "Where the backup goes (replaced if it exists).")
        private Path file;

        @Override
        void check(ClientOptions.Settings settings) {
            if (!action.equals("save")) {
                throw usage("Unknown snapshot command '" + action + "': expected save (raftkv node --restore FILE"
                        + " starts a cluster from a backup)");
            }
            Path dir = file.toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir)) throw usage("cannot write " + file + ": there is no directory " + dir);
        }

        @Override
        int run() {
            BackupFile backup = connector().adminToken(adminToken()).backup(settings().timeout());
            try {
                backup.write(file);
            } catch (UncheckedIOException e) {
                throw usage(e.getMessage());
            }
            return done("saved " + backup.describe() + " to " + file, object("file", file.toString(), "clusterId",
                    backup.clusterId(), "index", backup.index(), "term", backup.term(), "bytes", (long) backup.state().length));
        }
    }

    /** A membership change of one node. */
    abstract static class MembershipVerb extends ClientVerb {
        private final MembershipOp op;

        @Parameters(index = "0", paramLabel = "ID", description = "The node's id.")
        int node;

        MembershipVerb(MembershipOp op) {
            this.op = op;
        }

        @Override
        int run() {
            String configuration = connector().adminToken(adminToken()).membership(op, node, settings().timeout());
            return done(configuration, configurationJson(configuration));
        }
    }

    private static final Pattern CONFIGURATION = Pattern.compile("voters \\[([\\d, ]*)](?: learners \\[([\\d, ]*)])?");

    /**
     * A configuration as the nodes print it ({@code voters [1, 2, 3] learners [4]}) in JSON:
     * {@code {"voters":[1,2,3],"learners":[4]}}; text of another form as {@code {"configuration":"..."}}.
     */
    static String configurationJson(String text) {
        Matcher m = CONFIGURATION.matcher(text.strip());
        if (!m.matches()) return object("configuration", text);
        return object("voters", ids(m.group(1)), "learners", ids(m.group(2)));
    }

    private static List<Integer> ids(String list) {
        if (list == null || list.isBlank()) return List.of();
        return Arrays.stream(list.split(",")).map(String::strip).map(Integer::valueOf).toList();
    }
}
