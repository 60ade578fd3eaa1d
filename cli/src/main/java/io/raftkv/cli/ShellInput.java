package io.raftkv.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;

/** Where the cluster shell's lines come from: a terminal with line editing, or plain text (a pipe, a file, a test). */
interface ShellInput {
    /** The next line, read after {@code prompt} is shown if this input shows prompts; null at the end of the input. */
    String readLine(String prompt) throws IOException;

    /** Gives the terminal back as it was; nothing for plain input. */
    default void close() {}

    /** Lines of {@code in}, read as they come; the prompt goes to {@code out} only if {@code prompt}. */
    static ShellInput plain(BufferedReader in, PrintWriter out, boolean prompt) {
        return p -> {
            if (prompt) {
                out.print(p);
                out.flush();
            }
            return in.readLine();
        };
    }
}
