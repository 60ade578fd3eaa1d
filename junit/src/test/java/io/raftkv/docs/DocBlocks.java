package io.raftkv.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks that the Java examples of a page are the code of a test that runs them: each ```java block,
 * its import lines each among the test's and the rest as one run of its lines (blanks and indentation
 * aside).
 */
public final class DocBlocks {
    private DocBlocks() {}

    /** The text of {@code path}, relative to the directory the tests run in (a module's). */
    public static String read(String path) {
        try {
            return Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts that every Java block of {@code page} (a path) is in the test source {@code source} (a path). */
    public static void assertEveryBlockIsIn(String page, String source) {
        String code = normalise(read(source));
        List<String> blocks = javaBlocks(read(page));
        assertTrue(!blocks.isEmpty(), page + " has Java blocks");
        for (String block : blocks) {
            StringBuilder body = new StringBuilder();
            for (String line : block.lines().toList()) {
                if (line.startsWith("import ")) {
                    assertTrue(code.contains(line.strip() + "\n"), page + " imports what " + source + " does not: " + line);
                } else {
                    body.append(line).append('\n');
                }
            }
            assertTrue(code.contains(normalise(body.toString())), page + " has a block " + source + " does not run:\n" + block);
        }
    }

    /** The ```java blocks of a Markdown page. */
    public static List<String> javaBlocks(String markdown) {
        List<String> out = new ArrayList<>();
        int at = 0;
        while ((at = markdown.indexOf("```java\n", at)) >= 0) {
            int end = markdown.indexOf("```", at + 8);
            out.add(markdown.substring(at + 8, end));
            at = end + 3;
        }
        return out;
    }

    /** The text with each line's leading and trailing blanks gone and blank lines dropped. */
    public static String normalise(String text) {
        StringBuilder b = new StringBuilder();
        text.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }
}
