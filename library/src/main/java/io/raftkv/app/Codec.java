package io.raftkv.app;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns values of one type into bytes and back: how an {@link Application}'s commands reach the log,
 * and how the answers its sessions remember reach a snapshot. {@code decode(encode(v))} must equal
 * {@code v}, on every node and every build that shares the log.
 *
 * @param <T> the values
 */
public interface Codec<T> {
    /** The bytes of {@code value}; the array is not changed afterwards by the caller. */
    byte[] encode(T value);

    /**
     * The value {@link #encode} wrote into {@code bytes}.
     *
     * @throws IllegalArgumentException (or another {@link RuntimeException}) if they are not such bytes
     */
    T decode(byte[] bytes);

    /** A codec of the two functions given. */
    static <T> Codec<T> of(Function<? super T, byte[]> encode, Function<byte[], ? extends T> decode) {
        Objects.requireNonNull(encode, "encode");
        Objects.requireNonNull(decode, "decode");
        return new Codec<>() {
            @Override
            public byte[] encode(T value) {
                return encode.apply(value);
            }

            @Override
            public T decode(byte[] bytes) {
                return decode.apply(bytes);
            }
        };
    }

    /** Longs as 8 bytes, big-endian; null is refused. */
    static Codec<Long> longs() {
        return Builtin.LONGS;
    }

    /** Strings as UTF-8 (bytes that are not UTF-8 are refused); null is refused. */
    static Codec<String> strings() {
        return Builtin.STRINGS;
    }

    /** The bytes themselves (copied neither way: do not change an array after handing it over). */
    static Codec<byte[]> bytes() {
        return Builtin.BYTES;
    }

    /** The built-in codecs, one instance each. */
    final class Builtin {
        private Builtin() {}

        static final Codec<Long> LONGS = of(
                v -> ByteBuffer.allocate(Long.BYTES).putLong(Objects.requireNonNull(v, "value")).array(),
                b -> {
                    if (b.length != Long.BYTES) throw new IllegalArgumentException("a long takes 8 bytes, not " + b.length);
                    return ByteBuffer.wrap(b).getLong();
                });

        static final Codec<String> STRINGS = of(
                v -> Objects.requireNonNull(v, "value").getBytes(StandardCharsets.UTF_8),
                b -> {
                    try {
                        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
                    } catch (CharacterCodingException e) {
                        throw new IllegalArgumentException("not UTF-8: " + e.getMessage(), e);
                    }
                });

        static final Codec<byte[]> BYTES = of(v -> Objects.requireNonNull(v, "value"), b -> b);
    }
}
