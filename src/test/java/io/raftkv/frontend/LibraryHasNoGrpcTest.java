package io.raftkv.frontend;

import io.raftkv.kv.KvClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The library has no gRPC in it: no compiled class outside {@code io.raftkv.frontend} (which only the
 * command-line jar ships) refers to gRPC or protobuf. Both are on the one module's class path, so the
 * compiler would not stop a library class from using them; this does.
 */
class LibraryHasNoGrpcTest {
    @Test
    void noLibraryClassRefersToGrpcOrProtobuf() throws Exception {
        Path classes = Path.of(KvClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(classes.resolve("io/raftkv")), "expected compiled classes in " + classes);
        List<String> offenders;
        try (Stream<Path> all = Files.walk(classes)) {
            offenders = all.filter(p -> p.toString().endsWith(".class"))
                    .filter(p -> !classes.relativize(p).toString().startsWith("io/raftkv/frontend/"))
                    .filter(LibraryHasNoGrpcTest::refersToGrpc)
                    .map(p -> classes.relativize(p).toString()).toList();
        }
        assertEquals(List.of(), offenders, "library classes that refer to gRPC or protobuf");
    }

    private static boolean refersToGrpc(Path classFile) {
        try {
            // Class names in a constant pool are UTF-8 with slashes: a reference shows up as these bytes.
            String text = new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
            return text.contains("io/grpc/") || text.contains("com/google/protobuf/");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
