package io.raftkv.app;

import io.raftkv.client.CommandFailedException;
import io.raftkv.node.StateMachine;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How a node runs an {@link Application}: the application's state, with the client sessions that make
 * a retried command apply once. A session remembers its client's last sequence number and answer;
 * sessions live and expire by the log alone (the least recently used beyond {@code maxSessions} is
 * evicted), so every node keeps the same ones. A client opens its session with a registration entry
 * whose log index becomes its id (Raft thesis §6.3). Whatever the log holds, this machine never throws
 * on it: bytes that are not an entry of this format, or that the command codec refuses, are answered
 * as a {@link CommandFailedException} on every node alike.
 *
 * <p>Snapshot format, integers big-endian:
 * <pre>
 * magic int32 "RAPP" | version uint8 (1)
 * | sessions int32 | per session, least recently used first: id int64 | nonce int64 | lastSeq int64
 *                    | answer uint8 (0 none, 1 value, 2 failure) [| length int32 | bytes: the answer codec's,
 *                    or the failure's message in UTF-8]
 * | the application's own snapshot, to the end
 * </pre>
 *
 * @param <C> the application's commands
 * @param <Q> its queries
 * @param <R> its answers
 */
public final class SessionMachine<C, Q, R> implements StateMachine {
    static final int MAGIC = 0x52415050; // "RAPP"
    static final int VERSION = 1;
    /** Beyond this, a length in a snapshot is damage, not data. */
    private static final int MAX_ANSWER_BYTES = 64 << 20;

    /** A new session's id, the answer to a registration. */
    record Registered(long sessionId) {}

    /** What the application threw, or why a command's bytes were refused: the answer, on every node alike. */
    record Failed(String message) {}

    /** Answers that are about the session, not the command. */
    enum Refusal { SESSION_EXPIRED, STALE }

    private final AppSpec<C, Q, R> spec;
    private final Application<C, Q, R> app;
    /** Answers a session remembers: the application's R, or a {@link Failed}. */
    private final Sessions<Object> sessions;

    public SessionMachine(AppSpec<C, Q, R> spec, int maxSessions) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.sessions = new Sessions<>(maxSessions);
        this.app = spec.newApplication();
    }

    /** The application this machine runs (for a test that looks at it on a stopped node). */
    public Application<C, Q, R> application() {
        return app;
    }

    @Override
    public Object apply(long index, byte[] entry) {
        if (entry.length == AppCommand.REGISTER_BYTES && entry[0] == AppCommand.REGISTER) {
            long nonce = AppCommand.getLong(entry, 1);
            // A retry of a registration that was applied already (its answer lost) gets that session again.
            Sessions.Session<Object> opened = sessions.useByNonce(nonce);
            if (opened != null) return new Registered(opened.id);
            sessions.open(index, nonce);
            return new Registered(index);
        }
        if (entry.length < AppCommand.HEADER_BYTES || entry[0] != AppCommand.COMMAND) {
            return new Failed("entry " + index + " is not a command of this application (" + entry.length + " bytes)");
        }
        Sessions.Session<Object> s = sessions.use(AppCommand.getLong(entry, 1));
        // Sessions are opened only by registration, so an unknown id is one that was evicted: a command
        // under it could be a late retry of one applied already, and must not apply again.
        if (s == null) return Refusal.SESSION_EXPIRED;
        long seq = AppCommand.getLong(entry, 9);
        if (seq < s.lastSeq) return Refusal.STALE;
        if (seq == s.lastSeq) return s.lastResult;
        Object result = decodeAndApply(entry, index);
        s.lastSeq = seq;
        s.lastResult = result;
        return result;
    }

    /** The application's answer to the command in {@code entry}, or the {@link Failed} that stands for it. */
    private Object decodeAndApply(byte[] entry, long index) {
        C command;
        try {
            command = spec.commands().decode(Arrays.copyOfRange(entry, AppCommand.HEADER_BYTES, entry.length));
        } catch (RuntimeException e) {
            return new Failed("the command at index " + index + " did not decode: " + e);
        }
        if (command == null) return new Failed("the command at index " + index + " decoded to null");
        try {
            return app.apply(command);
        } catch (RuntimeException e) {
            return new Failed(String.valueOf(e));
        }
    }

    /** Answers a query: the application's query object as the client gave it (in this process). */
    @Override
    @SuppressWarnings("unchecked")
    public Object query(Object query) {
        try {
            return app.query((Q) query);
        } catch (RuntimeException e) {
            return new Failed(String.valueOf(e));
        }
    }

    @Override
    public boolean canSnapshot() {
        return app.canSnapshot();
    }

    @Override
    public void snapshot(OutputStream out) throws IOException {
        write(encodedSessions(), app::snapshot, out);
    }

    @Override
    public Frozen freeze() {
        Application.Frozen frozen = app.freeze();
        if (frozen == null) return null; // the node then calls snapshot() on its own thread
        List<EncodedSession> copy = encodedSessions();
        return out -> write(copy, frozen::writeTo, out);
    }

    private interface StateWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /** A session as a snapshot holds it. */
    private record EncodedSession(long id, long nonce, long lastSeq, int kind, byte[] answer) {}

    private List<EncodedSession> encodedSessions() {
        List<EncodedSession> out = new ArrayList<>(sessions.size());
        sessions.forEachOldestFirst(s -> {
            Object r = s.lastResult;
            if (r == null) {
                out.add(new EncodedSession(s.id, s.nonce, s.lastSeq, 0, null));
            } else if (r instanceof Failed f) {
                out.add(new EncodedSession(s.id, s.nonce, s.lastSeq, 2, f.message().getBytes(StandardCharsets.UTF_8)));
            } else {
                @SuppressWarnings("unchecked") R value = (R) r;
                // A codec that returns null (against its contract) would leave kind 1 without a length: a snapshot
                // no node can restore, installed with the log behind it compacted. Fail the snapshot instead.
                byte[] bytes = Objects.requireNonNull(spec.results().encode(value),
                        () -> "the results codec returned null for the answer of session " + s.id);
                out.add(new EncodedSession(s.id, s.nonce, s.lastSeq, 1, bytes));
            }
        });
        return out;
    }

    private static void write(List<EncodedSession> sessions, StateWriter state, OutputStream target) throws IOException {
        // Not closed here: the caller owns the target. The application's part goes through the same buffer.
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(target, 1 << 13));
        out.writeInt(MAGIC);
        out.writeByte(VERSION);
        out.writeInt(sessions.size());
        for (EncodedSession s : sessions) {
            out.writeLong(s.id());
            out.writeLong(s.nonce());
            out.writeLong(s.lastSeq());
            out.writeByte(s.kind());
            if (s.answer() != null) {
                out.writeInt(s.answer().length);
                out.write(s.answer());
            }
        }
        state.writeTo(new Unclosable(out));
        out.flush();
    }

    /** A stream the application may close (and so flush) without closing the snapshot's. */
    private static final class Unclosable extends FilterOutputStream {
        Unclosable(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    /**
     * Replaces the sessions and the application's state with a snapshot's. The sessions are read and checked
     * first; they replace this machine's only once the application has restored its part.
     */
    @Override
    public void restore(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        List<EncodedSession> read = new ArrayList<>();
        List<Object> answers = new ArrayList<>();
        try {
            int magic = data.readInt();
            if (magic != MAGIC) throw new IOException(String.format("not an application snapshot: magic %08x", magic));
            int version = data.readUnsignedByte();
            if (version != VERSION) {
                throw new IOException("application snapshot version " + version + "; this build reads version " + VERSION);
            }
            int n = data.readInt();
            if (n < 0) throw new IOException("damaged application snapshot: " + n + " sessions");
            Set<Long> ids = new HashSet<>();
            Set<Long> nonces = new HashSet<>();
            for (int i = 0; i < n; i++) {
                long id = data.readLong();
                long nonce = data.readLong();
                long lastSeq = data.readLong();
                int kind = data.readUnsignedByte();
                if (!ids.add(id) || (nonce != 0 && !nonces.add(nonce))) {
                    throw new IOException("damaged application snapshot: session " + id + " or nonce " + nonce + " twice");
                }
                Object answer = null;
                byte[] bytes = null;
                if (kind == 1 || kind == 2) {
                    int length = data.readInt();
                    if (length < 0 || length > MAX_ANSWER_BYTES) {
                        throw new IOException("damaged application snapshot: an answer of " + length + " bytes");
                    }
                    bytes = data.readNBytes(length);
                    if (bytes.length != length) throw new EOFException("application snapshot cut short");
                    if (kind == 2) {
                        answer = new Failed(new String(bytes, StandardCharsets.UTF_8));
                    } else {
                        try {
                            answer = spec.results().decode(bytes);
                        } catch (RuntimeException e) {
                            throw new IOException("an answer in the snapshot does not decode: " + e, e);
                        }
                    }
                } else if (kind != 0) {
                    throw new IOException("damaged application snapshot: answer kind " + kind);
                }
                read.add(new EncodedSession(id, nonce, lastSeq, kind, bytes));
                answers.add(answer);
            }
        } catch (EOFException e) {
            throw new IOException("application snapshot cut short", e);
        }
        app.restore(in); // throws, leaving its state as it was, if its part is damaged: then so are the sessions
        sessions.clear();
        for (int i = 0; i < read.size(); i++) {
            EncodedSession e = read.get(i);
            Sessions.Session<Object> s = sessions.open(e.id(), e.nonce());
            s.lastSeq = e.lastSeq();
            s.lastResult = answers.get(i);
        }
    }

    /** How many sessions this machine keeps now. */
    public int sessionCount() {
        return sessions.size();
    }
}
