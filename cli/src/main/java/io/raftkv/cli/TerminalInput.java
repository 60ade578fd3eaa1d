package io.raftkv.cli;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.completer.ArgumentCompleter;
import org.jline.reader.impl.completer.NullCompleter;
import org.jline.reader.impl.completer.StringsCompleter;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The cluster shell's input on a terminal, through JLine: line editing, history (kept in a file between
 * sessions) and Tab to complete a command's name. Ctrl-C drops the line being typed; Ctrl-D on an empty
 * line ends the session, as the end of input does.
 */
final class TerminalInput implements ShellInput {
    /** Lines kept in the history file. */
    static final int HISTORY_LINES = 1_000;

    private final Terminal terminal;
    private final LineReader reader;

    /**
     * Reads from {@code terminal}, completing {@code commands} and keeping history in {@code historyFile}
     * (none if null); closing this closes the terminal.
     */
    TerminalInput(Terminal terminal, List<String> commands, Path historyFile) {
        this.terminal = terminal;
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("raftkv")
                .completer(new ArgumentCompleter(new StringsCompleter(commands), NullCompleter.INSTANCE))
                .variable(LineReader.HISTORY_SIZE, HISTORY_LINES)
                .variable(LineReader.HISTORY_FILE_SIZE, HISTORY_LINES)
                // A command's value may hold anything: '!' and '\' are text here, not history or escapes.
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true);
        if (historyFile != null) b.variable(LineReader.HISTORY_FILE, historyFile);
        this.reader = b.build();
    }

    /**
     * The process's terminal, driven by JLine's exec provider: it sets the terminal's modes with
     * {@code stty}, so that no native library is loaded (a JDK 24+ would warn about one).
     *
     * @throws IOException if there is no terminal to drive
     */
    static Terminal systemTerminal() throws IOException {
        return TerminalBuilder.builder().system(true).provider(TerminalBuilder.PROP_PROVIDER_EXEC).dumb(false)
                .name("raftkv").build();
    }

    @Override
    public String readLine(String prompt) {
        while (true) {
            try {
                return reader.readLine(prompt);
            } catch (UserInterruptException e) {
                // Ctrl-C: the line is dropped and a new prompt shown, as in a Unix shell
            } catch (EndOfFileException e) {
                return null;
            }
        }
    }

    @Override
    public void close() {
        try {
            reader.getHistory().save();
            terminal.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot give the terminal back", e);
        }
    }
}
