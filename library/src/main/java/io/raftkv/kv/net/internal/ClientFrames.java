package io.raftkv.kv.net.internal;

import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.net.MembershipOp;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
import io.raftkv.transport.tcp.FrameEnvelope;
import io.raftkv.transport.tcp.FrameException;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The client protocol's frames: key-value requests and their answers, and node status, in the same
 * envelope as the peers' Raft frames ({@link FrameEnvelope}: length, version, type, body, CRC32C).
 *
 * <p>Bodies, big-endian; every one starts with a correlation id the client picks and the answer repeats:
 * <pre>
 * 64 request          corr int64 | kind uint8 (0 GET, 1 PUT, 2 REPLACE, 3 REGISTER, 4 DELETE, 5 CAS) | clientId int64
 *                     | seq int64 | key string | value string | a CAS only: expected string (none: the key must be
 *                     absent); a REGISTER's clientId is its registration nonce (0: none); a DELETE has no value
 *                     and a CAS's value is its new value
 * 65 response         corr int64 | code uint8, then by code: 0 OK (no value) | 1 OK string | 2 OK bool uint8
 *                     | 3 OK int64 | 4 NOT_LEADER hint int32 | 5 UNAVAILABLE reason string | 6 REFUSED reason string
 * 66 status request   corr int64
 * 67 status response  corr int64 | id int32 | alive uint8 | role uint8 (Role ordinal) | term int64 | leader int32
 *                     | lastIndex int64 | commitIndex int64 | appliedIndex int64
 * 68 admin request    corr int64 | op uint8 (0 MEMBERS, 1 ADD_VOTER, 2 REMOVE, 3 TRANSFER, 4 ADD_VOTER_AT, 5 ADDRESSES)
 *                     | node int32 (&gt;= 0) | admin token string (none: -1) | an ADD_VOTER_AT only: address string
 *                     (host:port); answered by a response (65): OK with the configuration as a string, or NOT_LEADER,
 *                     ..., or REFUSED when the node does not take admin requests from this client
 * 69 backup request   corr int64 | admin token string | backup int64 (0: take a new one) | offset int64 (&gt;= 0);
 *                     an admin request too: answered by a backup chunk, or a response (65) NOT_LEADER, REFUSED, ...
 * 70 backup chunk     corr int64 | backup int64 (&gt; 0) | index int64 | term int64 | size int64 (of the whole state)
 *                     | crc int32 (CRC32C of the whole state) | offset int64 | bytes (length int32 | bytes): the
 *                     state's bytes from offset on
 * string              length int32 (-1 for none) | UTF-8 bytes
 * </pre>
 * Decoding checks every length against the bytes present before allocating, refuses malformed UTF-8 and
 * unknown codes, and reports every fault as a {@link FrameException}.
 *
 * <p>{@link #PROTOCOL_VERSION} is what a client's handshake names; a node serves only its own version and
 * refuses any other at the handshake, with a reason that names both. Version 3 added the admin token to the
 * admin request, the admin ops ADD_VOTER_AT and ADDRESSES, and backups; version 2 added DELETE and CAS (and a
 * CAS's expected value); version 1 had the rest, laid out the same.
 */
public final class ClientFrames {
    /** "RKC1": what a client connection sends first, in place of the peer handshake's magic. */
    public static final int MAGIC = 0x524B4331;
    /**
     * The version of the client protocol these frames are: 3 (version 2 had no admin token, version 1 no DELETE
     * and no CAS).
     */
    public static final int PROTOCOL_VERSION = 3;
    /** The handshake's answer byte for an accepted client (then its node id follows). */
    public static final int ACCEPTED = io.raftkv.transport.tcp.HandshakeAnswer.ACCEPTED;

    public static final int REQUEST = 64;
    public static final int RESPONSE = 65;
    public static final int STATUS_REQUEST = 66;
    public static final int STATUS_RESPONSE = 67;
    public static final int ADMIN_REQUEST = 68;
    public static final int BACKUP_REQUEST = 69;
    public static final int BACKUP_CHUNK = 70;

    private static final int OK_NONE = 0, OK_STRING = 1, OK_BOOL = 2, OK_LONG = 3, NOT_LEADER = 4, UNAVAILABLE = 5,
            REFUSED_CODE = 6;
    private static final KvRequest.Kind[] KINDS = KvRequest.Kind.values();
    private static final Role[] ROLES = Role.values();
    private static final MembershipOp[] OPS = MembershipOp.values();

    /** One frame of the client protocol. */
    public sealed interface ClientFrame {
        long correlation();
    }

    public record Request(long correlation, KvRequest request) implements ClientFrame {}

    public record Response(long correlation, KvResponse response) implements ClientFrame {}

    public record StatusRequest(long correlation) implements ClientFrame {}

    public record StatusResponse(long correlation, NodeStatus status) implements ClientFrame {}

    /**
     * An admin request: a membership operation; {@code address} is an {@link MembershipOp#ADD_VOTER_AT}'s
     * (host:port), null for the others; {@code token} is the admin token the client presents, or null for none.
     */
    public record AdminRequest(long correlation, MembershipOp op, int node, String address, String token)
            implements ClientFrame {
        public AdminRequest {
            if ((op == MembershipOp.ADD_VOTER_AT) != (address != null)) {
                throw new IllegalArgumentException("an address goes with ADD_VOTER_AT, and only with it; " + op + " had "
                        + (address == null ? "none" : address));
            }
        }

        /** An operation without an address, presenting no admin token. */
        public AdminRequest(long correlation, MembershipOp op, int node) {
            this(correlation, op, node, null, null);
        }

        /** Leaves the token out: it is a secret, and records end up in logs. */
        @Override
        public String toString() {
            return "AdminRequest[correlation=" + correlation + ", op=" + op + ", node=" + node
                    + (address == null ? "" : ", address=" + address) + (token == null ? ", no token]" : ", a token]");
        }
    }

    /** Asks the leader for the state from {@code offset} on, of backup {@code backup} or (0) of a new one. */
    public record BackupRequest(long correlation, String token, long backup, long offset) implements ClientFrame {
        @Override
        public String toString() {
            return "BackupRequest[correlation=" + correlation + ", backup=" + backup + ", offset=" + offset
                    + (token == null ? ", no token]" : ", a token]");
        }
    }

    /** Bytes of backup {@code backup}'s state (as of {@code index}, of {@code size} bytes and CRC32C {@code crc}) from {@code offset} on. */
    public record BackupChunk(long correlation, long backup, long index, long term, long size, int crc, long offset,
                              byte[] bytes) implements ClientFrame {
        @Override
        public boolean equals(Object o) {
            return o instanceof BackupChunk c && c.correlation == correlation && c.backup == backup && c.index == index
                    && c.term == term && c.size == size && c.crc == crc && c.offset == offset
                    && java.util.Arrays.equals(c.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(correlation, backup, index, term, size, crc, offset) * 31 + java.util.Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "BackupChunk[correlation=" + correlation + ", backup=" + backup + ", index=" + index + ", term=" + term
                    + ", size=" + size + ", offset=" + offset + ", " + bytes.length + " bytes]";
        }
    }

    private ClientFrames() {}

    // ---------------------------------------------------------------- encoding

    /**
     * The frame of {@code f}.
     *
     * @throws IllegalArgumentException if it would exceed {@code maxFrameBytes}, or is a request other than a
     *                                  CAS that carries an expected value
     */
    public static byte[] encode(ClientFrame f, int maxFrameBytes) {
        byte[][] strings = new byte[2][];
        byte[] expected = null; // a CAS's
        int body = 8 + switch (f) {
            case Request r -> {
                strings[0] = utf8(r.request().key());
                strings[1] = utf8(r.request().value());
                boolean cas = r.request().kind() == KvRequest.Kind.CAS;
                if (cas) expected = utf8(r.request().expected());
                else if (r.request().expected() != null) {
                    throw new IllegalArgumentException("only a CAS carries an expected value, not a " + r.request().kind());
                }
                yield 1 + 8 + 8 + size(strings[0]) + size(strings[1]) + (cas ? size(expected) : 0);
            }
            case Response r -> 1 + switch (r.response()) {
                case KvResponse.Ok ok -> switch (ok.value()) {
                    case null -> 0;
                    case String s -> size(strings[0] = utf8(s));
                    case Boolean b -> 1;
                    case Long l -> 8;
                    default -> throw new IllegalArgumentException("an OK answer cannot carry a "
                            + ok.value().getClass().getName());
                };
                case KvResponse.NotLeader nl -> 4;
                case KvResponse.Unavailable u -> size(strings[0] = utf8(u.reason()));
                case KvResponse.Refused rf -> size(strings[0] = utf8(rf.reason()));
            };
            case StatusRequest s -> 0;
            case StatusResponse s -> 4 + 1 + 1 + 8 + 4 + 8 + 8 + 8;
            case AdminRequest a -> 1 + 4 + size(strings[0] = utf8(a.token()))
                    + (a.address() == null ? 0 : size(strings[1] = utf8(a.address())));
            case BackupRequest r -> size(strings[0] = utf8(r.token())) + 8 + 8;
            case BackupChunk c -> 8 + 8 + 8 + 8 + 4 + 8 + 4 + c.bytes().length;
        };
        long size = (long) FrameEnvelope.OVERHEAD + body;
        if (size > maxFrameBytes) {
            throw new IllegalArgumentException("the " + f.getClass().getSimpleName() + " encodes to " + size
                    + " bytes, more than the maximum frame of " + maxFrameBytes + " bytes");
        }
        byte[] frame = new byte[(int) size];
        ByteBuffer b = ByteBuffer.wrap(frame);
        int start = FrameEnvelope.begin(b, frame.length, typeOf(f));
        b.putLong(f.correlation());
        switch (f) {
            case Request r -> {
                KvRequest q = r.request();
                b.put((byte) q.kind().ordinal()).putLong(q.clientId()).putLong(q.seq());
                putString(b, strings[0]);
                putString(b, strings[1]);
                if (q.kind() == KvRequest.Kind.CAS) putString(b, expected);
            }
            case Response r -> {
                switch (r.response()) {
                    case KvResponse.Ok ok -> {
                        switch (ok.value()) {
                            case null -> b.put((byte) OK_NONE);
                            case String s -> putString(b.put((byte) OK_STRING), strings[0]);
                            case Boolean v -> b.put((byte) OK_BOOL).put((byte) (v ? 1 : 0));
                            case Long v -> b.put((byte) OK_LONG).putLong(v);
                            default -> throw new AssertionError(); // refused when sizing
                        }
                    }
                    case KvResponse.NotLeader nl -> b.put((byte) NOT_LEADER).putInt(nl.leaderHint());
                    case KvResponse.Unavailable u -> putString(b.put((byte) UNAVAILABLE), strings[0]);
                    case KvResponse.Refused rf -> putString(b.put((byte) REFUSED_CODE), strings[0]);
                }
            }
            case StatusRequest s -> { }
            case AdminRequest a -> {
                putString(b.put((byte) a.op().ordinal()).putInt(a.node()), strings[0]);
                if (a.address() != null) putString(b, strings[1]);
            }
            case BackupRequest r -> {
                putString(b, strings[0]);
                b.putLong(r.backup()).putLong(r.offset());
            }
            case BackupChunk c -> b.putLong(c.backup()).putLong(c.index()).putLong(c.term()).putLong(c.size()).putInt(c.crc())
                    .putLong(c.offset()).putInt(c.bytes().length).put(c.bytes());
            case StatusResponse s -> {
                NodeStatus n = s.status();
                b.putInt(n.id()).put((byte) (n.alive() ? 1 : 0)).put((byte) n.role().ordinal()).putLong(n.term())
                        .putInt(n.leader()).putLong(n.lastIndex()).putLong(n.commitIndex()).putLong(n.appliedIndex());
            }
        }
        FrameEnvelope.seal(b, start);
        return frame;
    }

    private static int typeOf(ClientFrame f) {
        return switch (f) {
            case Request r -> REQUEST;
            case Response r -> RESPONSE;
            case StatusRequest s -> STATUS_REQUEST;
            case StatusResponse s -> STATUS_RESPONSE;
            case AdminRequest a -> ADMIN_REQUEST;
            case BackupRequest r -> BACKUP_REQUEST;
            case BackupChunk c -> BACKUP_CHUNK;
        };
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static int size(byte[] utf8) {
        return 4 + (utf8 == null ? 0 : utf8.length);
    }

    private static void putString(ByteBuffer b, byte[] utf8) {
        if (utf8 == null) {
            b.putInt(-1);
        } else {
            b.putInt(utf8.length).put(utf8);
        }
    }

    // ---------------------------------------------------------------- decoding

    /** Decodes the one frame between {@code frame}'s position and limit. */
    public static ClientFrame decode(ByteBuffer frame, int maxFrameBytes) throws FrameException {
        ByteBuffer b = FrameEnvelope.open(frame, maxFrameBytes);
        int type = FrameEnvelope.type(b);
        String name = switch (type) {
            case REQUEST -> "request";
            case RESPONSE -> "response";
            case STATUS_REQUEST -> "status request";
            case STATUS_RESPONSE -> "status response";
            case ADMIN_REQUEST -> "admin request";
            case BACKUP_REQUEST -> "backup request";
            case BACKUP_CHUNK -> "backup chunk";
            default -> throw new FrameException(FrameEnvelope.LENGTH_BYTES + 1, "unknown client frame type " + type
                    + "; the known types are " + REQUEST + " to " + BACKUP_CHUNK);
        };
        need(b, 8, name);
        long corr = b.getLong();
        ClientFrame f = switch (type) {
            case REQUEST -> {
                need(b, 17, name);
                int at = b.position();
                int kind = b.get() & 0xFF;
                if (kind >= KINDS.length) {
                    throw new FrameException(at, "request kind " + kind + "; the kinds are 0 to " + (KINDS.length - 1));
                }
                long clientId = b.getLong();
                long seq = b.getLong();
                String key = getString(b, "key");
                String value = getString(b, "value");
                String expected = KINDS[kind] == KvRequest.Kind.CAS ? getString(b, "expected value") : null;
                yield new Request(corr, new KvRequest(KINDS[kind], clientId, seq, key, value, expected));
            }
            case RESPONSE -> {
                need(b, 1, name);
                int at = b.position();
                int code = b.get() & 0xFF;
                KvResponse r = switch (code) {
                    case OK_NONE -> new KvResponse.Ok(null);
                    case OK_STRING -> new KvResponse.Ok(requireString(b, "value"));
                    case OK_BOOL -> {
                        need(b, 1, name);
                        int v = b.get();
                        if (v != 0 && v != 1) throw new FrameException(b.position() - 1, "a boolean must be 0 or 1, was " + v);
                        yield new KvResponse.Ok(v == 1);
                    }
                    case OK_LONG -> {
                        need(b, 8, name);
                        yield new KvResponse.Ok(b.getLong());
                    }
                    case NOT_LEADER -> {
                        need(b, 4, name);
                        yield new KvResponse.NotLeader(b.getInt());
                    }
                    case UNAVAILABLE -> new KvResponse.Unavailable(requireString(b, "reason"));
                    case REFUSED_CODE -> new KvResponse.Refused(requireString(b, "reason"));
                    default -> throw new FrameException(at, "response code " + code + "; the codes are 0 to " + REFUSED_CODE);
                };
                yield new Response(corr, r);
            }
            case STATUS_REQUEST -> new StatusRequest(corr);
            case ADMIN_REQUEST -> {
                need(b, 5, name);
                int at = b.position();
                int op = b.get() & 0xFF;
                if (op >= OPS.length) throw new FrameException(at, "admin op " + op + "; the ops are 0 to " + (OPS.length - 1));
                int node = b.getInt();
                if (node < 0) throw new FrameException(at + 1, "node id " + node + " is negative");
                String token = getString(b, "admin token");
                String address = OPS[op] == MembershipOp.ADD_VOTER_AT ? requireString(b, "address") : null;
                yield new AdminRequest(corr, OPS[op], node, address, token);
            }
            case BACKUP_REQUEST -> {
                String token = getString(b, "admin token");
                need(b, 16, name);
                int at = b.position();
                long backup = b.getLong();
                long offset = b.getLong();
                if (backup < 0) throw new FrameException(at, "backup " + backup + " is negative");
                if (offset < 0) throw new FrameException(at + 8, "offset " + offset + " is negative");
                yield new BackupRequest(corr, token, backup, offset);
            }
            case BACKUP_CHUNK -> {
                need(b, 8 + 8 + 8 + 8 + 4 + 8 + 4, name);
                int at = b.position();
                long backup = b.getLong();
                long index = b.getLong();
                long term = b.getLong();
                long size = b.getLong();
                int crc = b.getInt();
                long offset = b.getLong();
                int n = b.getInt();
                if (backup < 1 || index < 1 || term < 1 || size < 0 || offset < 0 || n < 0 || n > b.remaining()
                        || offset > size - n) {
                    throw new FrameException(at, "a backup chunk of backup " + backup + ", index " + index + ", term " + term
                            + ", " + n + " bytes at offset " + offset + " of " + size + " (" + b.remaining() + " present)"
                            + " is out of range");
                }
                byte[] bytes = new byte[n];
                b.get(bytes);
                yield new BackupChunk(corr, backup, index, term, size, crc, offset, bytes);
            }
            default -> {
                need(b, 42, name);
                int id = b.getInt();
                int alive = b.get();
                int at = b.position();
                int role = b.get() & 0xFF;
                if (alive != 0 && alive != 1) throw new FrameException(at - 1, "alive must be 0 or 1, was " + alive);
                if (role >= ROLES.length) throw new FrameException(at, "role " + role + "; the roles are 0 to " + (ROLES.length - 1));
                yield new StatusResponse(corr, new NodeStatus(id, alive == 1, ROLES[role], b.getLong(), b.getInt(),
                        b.getLong(), b.getLong(), b.getLong()));
            }
        };
        if (b.hasRemaining()) {
            throw new FrameException(b.position(), "the " + name + " body has " + b.remaining() + " bytes too many");
        }
        return f;
    }

    private static void need(ByteBuffer b, int n, String what) throws FrameException {
        if (b.remaining() < n) {
            throw new FrameException(b.position(), "the " + what + " is cut short: " + n + " more bytes needed, "
                    + b.remaining() + " remain");
        }
    }

    private static String requireString(ByteBuffer b, String what) throws FrameException {
        int at = b.position();
        String s = getString(b, what);
        if (s == null) throw new FrameException(at, "the " + what + " must be present");
        return s;
    }

    private static String getString(ByteBuffer b, String what) throws FrameException {
        need(b, 4, what);
        int at = b.position();
        int n = b.getInt();
        if (n == -1) return null;
        if (n < 0 || n > b.remaining()) {
            throw new FrameException(at, "the " + what + " says it has " + n + " bytes; between 0 and "
                    + b.remaining() + " remain (or -1 for none)");
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer bytes = b.slice(b.position(), n);
        b.position(b.position() + n);
        try {
            CharBuffer chars = decoder.decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new FrameException(at + 4, "the " + what + " is not valid UTF-8");
        }
    }
}
