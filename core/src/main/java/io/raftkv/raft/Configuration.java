package io.raftkv.raft;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Who is in the cluster: the voters, whose majority commits entries and elects leaders, and the learners,
 * which receive the log but neither vote nor count (a new server catching up, thesis §4.2.1). The two sets
 * are disjoint and there is at least one voter. Changed one server at a time by {@link Entry.Kind#CONFIG}
 * entries, each taking effect as soon as it is in a log (thesis chapter 4).
 */
public record Configuration(SortedSet<Integer> voters, SortedSet<Integer> learners) {
    private static final byte FORMAT = 1;

    public Configuration {
        voters = copy(voters, "voters");
        learners = copy(learners, "learners");
        if (voters.isEmpty()) throw new IllegalArgumentException("a configuration needs at least one voter");
        for (int l : learners) {
            if (voters.contains(l)) {
                throw new IllegalArgumentException("node " + l + " cannot be both a voter and a learner");
            }
        }
    }

    private static SortedSet<Integer> copy(Set<Integer> ids, String what) {
        Objects.requireNonNull(ids, what);
        TreeSet<Integer> out = new TreeSet<>();
        for (Integer id : ids) {
            if (id == null) throw new NullPointerException(what + " must not contain null");
            if (id < 1) throw new IllegalArgumentException(what + " must be node ids >= 1, got " + id);
            out.add(id);
        }
        return Collections.unmodifiableSortedSet(out);
    }

    /** Only these voters, no learners. */
    public static Configuration ofVoters(Set<Integer> voters) {
        return new Configuration(new TreeSet<>(voters), new TreeSet<>());
    }

    public boolean isVoter(int id) {
        return voters.contains(id);
    }

    public boolean isLearner(int id) {
        return learners.contains(id);
    }

    /** Whether {@code id} is a voter or a learner. */
    public boolean contains(int id) {
        return voters.contains(id) || learners.contains(id);
    }

    /** Voters and learners, in id order. */
    public SortedSet<Integer> members() {
        TreeSet<Integer> all = new TreeSet<>(voters);
        all.addAll(learners);
        return Collections.unmodifiableSortedSet(all);
    }

    /**
     * The configuration after {@code change}.
     *
     * @throws IllegalArgumentException if the change does not apply to this configuration: adding a
     *     member, promoting a non-learner, removing a non-member or the last voter
     */
    public Configuration apply(ConfigChange change) {
        Objects.requireNonNull(change, "change");
        int id = change.node();
        TreeSet<Integer> v = new TreeSet<>(voters);
        TreeSet<Integer> l = new TreeSet<>(learners);
        switch (change.kind()) {
            case ADD_LEARNER -> {
                if (contains(id)) {
                    throw new IllegalArgumentException("node " + id + " is already " + (isVoter(id) ? "a voter" : "a learner")
                            + " in " + this);
                }
                l.add(id);
            }
            case PROMOTE -> {
                if (!isLearner(id)) {
                    throw new IllegalArgumentException("only a learner can be promoted to voter; node " + id + " is "
                            + (isVoter(id) ? "already a voter" : "not a member") + " in " + this);
                }
                l.remove(id);
                v.add(id);
            }
            case REMOVE -> {
                if (!contains(id)) throw new IllegalArgumentException("node " + id + " is not a member of " + this);
                if (voters.size() == 1 && isVoter(id)) {
                    throw new IllegalArgumentException("cannot remove node " + id + ", the last voter");
                }
                v.remove(id);
                l.remove(id);
            }
        }
        return new Configuration(v, l);
    }

    /**
     * The bytes of a {@link Entry.Kind#CONFIG} entry and of a snapshot's configuration, big-endian:
     * format uint8 (1) | voters int32 | voter ids int32... | learners int32 | learner ids int32...
     */
    public byte[] encode() {
        byte[] out = new byte[encodedSize()];
        out[0] = FORMAT;
        int at = putInt(out, 1, voters.size());
        for (int v : voters) at = putInt(out, at, v);
        at = putInt(out, at, learners.size());
        for (int l : learners) at = putInt(out, at, l);
        return out;
    }

    public int encodedSize() {
        return 1 + 4 + 4 * voters.size() + 4 + 4 * learners.size();
    }

    /**
     * Reads what {@link #encode()} wrote: exactly those bytes.
     *
     * @throws IllegalArgumentException if the bytes are not a configuration
     */
    public static Configuration decode(byte[] bytes) {
        if (bytes.length < 1 + 4 + 4) {
            throw new IllegalArgumentException("a configuration cut short: " + bytes.length + " bytes");
        }
        if (bytes[0] != FORMAT) {
            throw new IllegalArgumentException("unknown configuration format " + bytes[0] + " (this build reads " + FORMAT + ")");
        }
        int[] at = {1};
        TreeSet<Integer> v = readIds(bytes, at, "voters");
        TreeSet<Integer> l = readIds(bytes, at, "learners");
        if (at[0] != bytes.length) {
            throw new IllegalArgumentException("a configuration of " + bytes.length + " bytes has " + (bytes.length - at[0])
                    + " bytes after its end");
        }
        return new Configuration(v, l);
    }

    private static TreeSet<Integer> readIds(byte[] b, int[] at, String what) {
        if (b.length - at[0] < 4) throw new IllegalArgumentException("a configuration cut short before its " + what);
        int n = getInt(b, at[0]);
        at[0] += 4;
        if (n < 0 || n > (b.length - at[0]) / 4) {
            throw new IllegalArgumentException("a configuration claims " + n + " " + what + " in " + (b.length - at[0]) + " bytes");
        }
        TreeSet<Integer> ids = new TreeSet<>();
        int previous = 0;
        for (int i = 0; i < n; i++, at[0] += 4) {
            int id = getInt(b, at[0]);
            // Ascending, as encode() writes them: one configuration, one byte string.
            if (id <= previous) {
                throw new IllegalArgumentException("a configuration's " + what + " must be node ids >= 1 in ascending"
                        + " order, found " + id + " after " + previous);
            }
            ids.add(id);
            previous = id;
        }
        return ids;
    }

    private static int putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
        return at + 4;
    }

    private static int getInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    @Override
    public String toString() {
        return learners.isEmpty() ? "voters " + voters : "voters " + voters + " learners " + learners;
    }
}
