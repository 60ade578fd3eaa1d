package io.raftkv.kv.net;

import io.raftkv.raft.Configuration;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A cluster's members as one node sees them: the voters, the learners, and where each listens (a member whose
 * address that node does not know has none here). What {@link MembershipOp#ADDRESSES} answers, as a line of
 * text: {@code voter 1 10.0.0.1:7001,voter 2 10.0.0.2:7001,learner 4 -} (members in id order).
 */
public record MemberList(SortedSet<Integer> voters, SortedSet<Integer> learners, SortedMap<Integer, InetSocketAddress> addresses) {
    public MemberList {
        voters = Collections.unmodifiableSortedSet(new TreeSet<>(voters));
        learners = Collections.unmodifiableSortedSet(new TreeSet<>(learners));
        addresses = Collections.unmodifiableSortedMap(new TreeMap<>(addresses));
    }

    /** The members of {@code c}, each at its context's address, else at its address in {@code known}, else at none. */
    public static MemberList of(Configuration c, Map<Integer, InetSocketAddress> known) {
        TreeMap<Integer, InetSocketAddress> at = new TreeMap<>();
        for (int m : c.members()) {
            String context = c.context(m);
            InetSocketAddress a = null;
            if (context != null) {
                try {
                    a = MemberAddress.parse(context);
                } catch (IllegalArgumentException notAnAddress) {
                    // then the address it was started with, if any
                }
            }
            if (a == null) a = known.get(m);
            if (a != null) at.put(m, a);
        }
        return new MemberList(c.voters(), c.learners(), at);
    }

    /** Whether {@code id} is a voter or a learner. */
    public boolean contains(int id) {
        return voters.contains(id) || learners.contains(id);
    }

    /** The one-line text form (see the class comment). */
    public String encode() {
        StringBuilder b = new StringBuilder();
        TreeSet<Integer> all = new TreeSet<>(voters);
        all.addAll(learners);
        for (int m : all) {
            if (!b.isEmpty()) b.append(',');
            InetSocketAddress a = addresses.get(m);
            b.append(voters.contains(m) ? "voter " : "learner ").append(m).append(' ')
                    .append(a == null ? "-" : MemberAddress.format(a));
        }
        return b.toString();
    }

    /**
     * Reads what {@link #encode()} wrote.
     *
     * @throws IllegalArgumentException if {@code text} is not a member list
     */
    public static MemberList parse(String text) {
        Objects.requireNonNull(text, "text");
        TreeSet<Integer> voters = new TreeSet<>();
        TreeSet<Integer> learners = new TreeSet<>();
        TreeMap<Integer, InetSocketAddress> addresses = new TreeMap<>();
        for (String member : text.split(",")) {
            String[] parts = member.strip().split(" ");
            if (parts.length != 3 || !(parts[0].equals("voter") || parts[0].equals("learner"))) {
                throw new IllegalArgumentException("'" + member + "' is not 'voter|learner ID HOST:PORT|-' in " + text);
            }
            int id;
            try {
                id = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + parts[1] + "' is not a node id in " + text);
            }
            (parts[0].equals("voter") ? voters : learners).add(id);
            if (!parts[2].equals("-")) addresses.put(id, MemberAddress.parse(parts[2]));
        }
        return new MemberList(voters, learners, addresses);
    }
}
