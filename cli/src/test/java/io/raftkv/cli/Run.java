package io.raftkv.cli;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;

/** What the whole command line did with one set of arguments, run in this JVM: its exit status, output and errors. */
final class Run {
    final int code;
    final String out;
    final String err;

    private Run(int code, String out, String err) {
        this.code = code;
        this.out = out;
        this.err = err;
    }

    /** Runs {@code raftkv args...} with no standard input, and captures what it prints. */
    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = RaftkvCommand.commandLine(new BufferedReader(new StringReader("")), false);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }
}
