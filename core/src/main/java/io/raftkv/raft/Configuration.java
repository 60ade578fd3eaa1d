package io.raftkv.raft;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who is in the cluster: the voters, whose majority commits entries and elects leaders, and the learners,
 * which receive the log but neither vote nor count (a new server catching up, thesis §4.2.1). The two sets
 * are disjoint and there is at least one voter. Changed one server at a time by {@link Entry.Kind#CONFIG}
 * entries, each taking effect as soon as it is in a log (thesis chapter 4).
 *
 * <p>A member may carry a context: an opaque string of printable ASCII the core stores with the configuration
 * and hands back, never reads (as etcd's ConfChange context). The runtime keeps each member's address there, so that every
 * node learns where a new member listens from the log itself.
 *
 * <p>It also carries the cluster's {@link FeatureLevel feature level}: raised by a configuration entry of its own
 * ({@link RaftCore#proposeFeatureLevel}), kept by every change after it, in force for the cluster once committed.
 * Living here, it is replicated, kept in snapshots and recovered with the configuration, for any state machine.
 */
public record Configuration(SortedSet<Integer> voters, SortedSet<Integer> learners, SortedMap<Integer, String> contexts,
                            int featureLevel) {
    /** Ids only: what every build wrote and still writes for a configuration without contexts. */
    private static final byte FORMAT = 1;
    /** Ids, then each member's context. */
    private static final byte FORMAT_WITH_CONTEXTS = 2;
    /** The feature level, ids, then contexts: every configuration at level 2 or more (which no older build reads). */
    private static final byte FORMAT_WITH_LEVEL = 3;
    /** The highest feature level a configuration can carry (one byte). */
    private static final int MAX_FEATURE_LEVEL = 255;
    /** The longest context, in characters (printable ASCII: one byte each). */
    public static final int MAX_CONTEXT_BYTES = 1024;

    public Configuration {
        voters = copy(voters, "voters");
        learners = copy(learners, "learners");
        if (voters.isEmpty()) throw new IllegalArgumentException("a configuration needs at least one voter");
        for (int l : learners) {
            if (voters.contains(l)) {
                throw new IllegalArgumentException("node " + l + " cannot be both a voter and a learner");
            }
        }
        Objects.requireNonNull(contexts, "contexts");
        TreeMap<Integer, String> cs = new TreeMap<>();
        for (Map.Entry<Integer, String> e : contexts.entrySet()) {
            Integer id = Objects.requireNonNull(e.getKey(), "contexts must not have a null id");
            if (!voters.contains(id) && !learners.contains(id)) {
                throw new IllegalArgumentException("node " + id + " has a context but is not a member");
            }
            cs.put(id, checkContext(e.getValue()));
        }
        contexts = Collections.unmodifiableSortedMap(cs);
        if (featureLevel < FeatureLevel.BASE || featureLevel > MAX_FEATURE_LEVEL) {
            throw new IllegalArgumentException("a feature level is " + FeatureLevel.BASE + " to " + MAX_FEATURE_LEVEL
                    + ", was " + featureLevel);
        }
    }

    /** These voters, learners and contexts, at feature level 1. */
    public Configuration(SortedSet<Integer> voters, SortedSet<Integer> learners, SortedMap<Integer, String> contexts) {
        this(voters, learners, contexts, FeatureLevel.BASE);
    }

    /** These voters and learners, with no contexts, at feature level 1. */
    public Configuration(SortedSet<Integer> voters, SortedSet<Integer> learners) {
        this(voters, learners, new TreeMap<>());
    }

    /** This configuration at feature level {@code level}. */
    public Configuration withFeatureLevel(int level) {
        return level == featureLevel ? this : new Configuration(voters, learners, contexts, level);
    }

    /**
     * {@code context} if it is one a configuration can carry: printable ASCII (0x20 to 0x7E), at most
     * {@link #MAX_CONTEXT_BYTES} characters. ASCII keeps the core free of charsets, and one context one byte string.
     */
    static String checkContext(String context) {
        Objects.requireNonNull(context, "context");
        if (context.length() > MAX_CONTEXT_BYTES) {
            throw new IllegalArgumentException("a member's context is at most " + MAX_CONTEXT_BYTES + " characters, was "
                    + context.length());
        }
        for (int i = 0; i < context.length(); i++) {
            char c = context.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw new IllegalArgumentException("a member's context must be printable ASCII; '" + context + "' has"
                        + " character " + (int) c + " at " + i);
            }
        }
        return context;
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

    /** These voters, no learners, each with its context (every key a voter). */
    public static Configuration ofVoters(Map<Integer, String> votersWithContexts) {
        return new Configuration(new TreeSet<>(votersWithContexts.keySet()), new TreeSet<>(), new TreeMap<>(votersWithContexts));
    }

    /** Member {@code id}'s context, or null if it has none (or is not a member). */
    public String context(int id) {
        return contexts.get(id);
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
        TreeMap<Integer, String> cs = new TreeMap<>(contexts);
        switch (change.kind()) {
            case ADD_LEARNER -> {
                if (contains(id)) {
                    throw new IllegalArgumentException("node " + id + " is already " + (isVoter(id) ? "a voter" : "a learner")
                            + " in " + this);
                }
                l.add(id);
                if (change.context() != null) cs.put(id, change.context());
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
                cs.remove(id);
            }
        }
        return new Configuration(v, l, cs, featureLevel);
    }

    /**
     * The bytes of a {@link Entry.Kind#CONFIG} entry and of a snapshot's configuration, big-endian:
     * format uint8 (1) | voters int32 | voter ids int32... | learners int32 | learner ids int32...; with contexts,
     * format 2 and then contexts int32 | (id int32 | length uint16 | ASCII bytes)... in id order. A configuration
     * without contexts is written as format 1, byte for byte as before contexts existed. Above feature level 1,
     * format 3: format uint8 (3) | feature level uint8 | the ids as above | contexts int32 (0 or more) | contexts as above.
     */
    public byte[] encode() {
        byte[] out = new byte[encodedSize()];
        boolean leveled = featureLevel > FeatureLevel.BASE;
        out[0] = leveled ? FORMAT_WITH_LEVEL : contexts.isEmpty() ? FORMAT : FORMAT_WITH_CONTEXTS;
        int at = 1;
        if (leveled) out[at++] = (byte) featureLevel;
        at = putInt(out, at, voters.size());
        for (int v : voters) at = putInt(out, at, v);
        at = putInt(out, at, learners.size());
        for (int l : learners) at = putInt(out, at, l);
        if (contexts.isEmpty() && !leveled) return out;
        at = putInt(out, at, contexts.size());
        for (Map.Entry<Integer, String> e : contexts.entrySet()) {
            at = putInt(out, at, e.getKey());
            String text = e.getValue();
            out[at] = (byte) (text.length() >>> 8);
            out[at + 1] = (byte) text.length();
            for (int i = 0; i < text.length(); i++) out[at + 2 + i] = (byte) text.charAt(i);
            at += 2 + text.length();
        }
        return out;
    }

    public int encodedSize() {
        int size = 1 + 4 + 4 * voters.size() + 4 + 4 * learners.size();
        if (featureLevel > FeatureLevel.BASE) size += 1;
        else if (contexts.isEmpty()) return size;
        size += 4;
        for (String c : contexts.values()) size += 4 + 2 + c.length();
        return size;
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
        byte format = bytes[0];
        if (format != FORMAT && format != FORMAT_WITH_CONTEXTS && format != FORMAT_WITH_LEVEL) {
            throw new IllegalArgumentException("unknown configuration format " + format + " (this build reads " + FORMAT
                    + ", " + FORMAT_WITH_CONTEXTS + " and " + FORMAT_WITH_LEVEL + ")");
        }
        int[] at = {1};
        int level = FeatureLevel.BASE;
        if (format == FORMAT_WITH_LEVEL) {
            level = bytes[at[0]++] & 0xFF;
            if (level <= FeatureLevel.BASE) {
                throw new IllegalArgumentException("a configuration of format " + FORMAT_WITH_LEVEL + " at feature level "
                        + level + "; that format is for levels above " + FeatureLevel.BASE);
            }
        }
        TreeSet<Integer> v = readIds(bytes, at, "voters");
        TreeSet<Integer> l = readIds(bytes, at, "learners");
        TreeMap<Integer, String> cs = format == FORMAT_WITH_CONTEXTS ? readContexts(bytes, at, 1)
                : format == FORMAT_WITH_LEVEL ? readContexts(bytes, at, 0) : new TreeMap<>();
        if (at[0] != bytes.length) {
            throw new IllegalArgumentException("a configuration of " + bytes.length + " bytes has " + (bytes.length - at[0])
                    + " bytes after its end");
        }
        return new Configuration(v, l, cs, level);
    }

    /** Reads at least {@code least} contexts. */
    private static TreeMap<Integer, String> readContexts(byte[] b, int[] at, int least) {
        if (b.length - at[0] < 4) throw new IllegalArgumentException("a configuration cut short before its contexts");
        int n = getInt(b, at[0]);
        at[0] += 4;
        if (n < least || n > (b.length - at[0]) / 6) {
            throw new IllegalArgumentException("a configuration claims " + n + " contexts in " + (b.length - at[0]) + " bytes");
        }
        TreeMap<Integer, String> out = new TreeMap<>();
        int previous = 0;
        for (int i = 0; i < n; i++) {
            if (b.length - at[0] < 6) throw new IllegalArgumentException("a configuration cut short in its contexts");
            int id = getInt(b, at[0]);
            int length = (b[at[0] + 4] & 0xFF) << 8 | (b[at[0] + 5] & 0xFF);
            at[0] += 6;
            if (id <= previous) {
                throw new IllegalArgumentException("a configuration's contexts must be by node ids >= 1 in ascending order,"
                        + " found " + id + " after " + previous);
            }
            if (length > b.length - at[0]) {
                throw new IllegalArgumentException("node " + id + "'s context claims " + length + " bytes of the "
                        + (b.length - at[0]) + " left");
            }
            char[] text = new char[length];
            for (int c = 0; c < length; c++) text[c] = (char) (b[at[0] + c] & 0xFF);
            try {
                out.put(id, checkContext(new String(text)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("node " + id + "'s context: " + e.getMessage());
            }
            at[0] += length;
            previous = id;
        }
        return out;
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
        String ids = learners.isEmpty() ? "voters " + voters : "voters " + voters + " learners " + learners;
        // No level: what clients and the shell print of a configuration is its members (featureLevel() says the level).
        return contexts.isEmpty() ? ids : ids + " at " + contexts;
    }
}
