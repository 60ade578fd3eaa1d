package io.raftkv.cli;

import io.raftkv.node.NodeStatus;

import java.io.PrintWriter;
import java.util.Locale;

/** Prints node statuses as a table a person can read: one line per node. */
final class StatusTable {
    private final PrintWriter out;

    StatusTable(PrintWriter out) {
        this.out = out;
        out.printf("%-4s  %-5s  %-13s  %5s  %6s  %10s  %8s  %8s%n",
                "id", "alive", "role", "term", "leader", "last index", "commit", "applied");
    }

    void row(NodeStatus s) {
        String role = s.alive() ? s.role().name().toLowerCase(Locale.ROOT).replace('_', '-') : "-";
        String leader = s.alive() && s.leader() != 0 ? Integer.toString(s.leader()) : "-";
        out.printf("%-4d  %-5s  %-13s  %5d  %6s  %10d  %8d  %8d%n", s.id(), s.alive() ? "yes" : "no", role,
                s.term(), leader, s.lastIndex(), s.commitIndex(), s.appliedIndex());
    }

    /** A node that could not be asked, and why. */
    void unreachable(int id, String why) {
        out.printf("%-4d  %-5s  %s%n", id, "?", why);
    }
}
