package io.raftkv.transport.tcp;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * How a node answers a handshake, peer or client alike: one byte {@value #ACCEPTED}, or {@value #REFUSED}
 * followed by the reason (uint16 length, at most {@value #MAX_REASON_BYTES} bytes of UTF-8), which the
 * dialler logs or reports.
 */
public final class HandshakeAnswer {
    public static final int ACCEPTED = 1;
    public static final int REFUSED = 0;
    static final int MAX_REASON_BYTES = 1024;

    private HandshakeAnswer() {}

    /** Writes a refusal giving {@code why} (cut to the maximum) and flushes. */
    public static void refuse(DataOutputStream out, String why) throws IOException {
        byte[] reason = why.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(reason.length, MAX_REASON_BYTES);
        out.writeByte(REFUSED);
        out.writeShort(n);
        out.write(reason, 0, n);
        out.flush();
    }

    /**
     * Reads the answer to a handshake.
     *
     * @return null if accepted, else the reason the node gave for refusing
     * @throws IOException if the answer is neither, or the connection fails
     */
    public static String read(DataInputStream in) throws IOException {
        int answer = in.readUnsignedByte();
        if (answer == ACCEPTED) return null;
        if (answer != REFUSED) throw new IOException("it answered the handshake with " + answer);
        return new String(in.readNBytes(in.readUnsignedShort()), StandardCharsets.UTF_8);
    }
}
