package com.example.ledger;

import io.raftkv.app.AppSpec;
import io.raftkv.app.Application;
import io.raftkv.app.Codec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The ledger as a cluster and its clients know it: how to make one, and how its operations, queries and
 * answers become bytes. A named class with a no-argument constructor, so that a test can name it in
 * {@code @RaftCluster(app = LedgerSpec.class)}.
 */
public final class LedgerSpec implements AppSpec<Ledger.Op, String, Long> {
    private static final byte DEPOSIT = 1, TRANSFER = 2;

    /** Operations as a tag byte and their fields, in DataOutputStream's encoding. */
    static final Codec<Ledger.Op> OPS = Codec.of(LedgerSpec::encode, LedgerSpec::decode);

    @Override
    public Application<Ledger.Op, String, Long> newApplication() {
        return new Ledger();
    }

    @Override
    public Codec<Ledger.Op> commands() {
        return OPS;
    }

    @Override
    public Codec<String> queries() {
        return Codec.strings();
    }

    @Override
    public Codec<Long> results() {
        return Codec.longs();
    }

    private static byte[] encode(Ledger.Op op) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            switch (op) {
                case Ledger.Deposit d -> {
                    out.writeByte(DEPOSIT);
                    out.writeUTF(d.account());
                    out.writeLong(d.amount());
                }
                case Ledger.Transfer t -> {
                    out.writeByte(TRANSFER);
                    out.writeUTF(t.from());
                    out.writeUTF(t.to());
                    out.writeLong(t.amount());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    private static Ledger.Op decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            Ledger.Op op = switch (in.readByte()) {
                case DEPOSIT -> new Ledger.Deposit(in.readUTF(), in.readLong());
                case TRANSFER -> new Ledger.Transfer(in.readUTF(), in.readUTF(), in.readLong());
                default -> throw new IllegalArgumentException("not a ledger operation");
            };
            if (in.available() > 0) throw new IllegalArgumentException("trailing bytes after a ledger operation");
            return op;
        } catch (IOException e) {
            // Bytes that do not decode fail that one command, on every node alike.
            throw new IllegalArgumentException("not a ledger operation: " + e, e);
        }
    }
}
