package io.raftkv.cli;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The file {@code raftkv node --pid-file} names: it holds this process's id while the node runs, so that a
 * service manager or a script can find it and a second start of the same node is refused.
 */
final class PidFile {
    private final Path file;
    private final long pid;
    private boolean released;

    private PidFile(Path file, long pid) {
        this.file = file;
        this.pid = pid;
    }

    /**
     * Writes this process's id to {@code file}. A file left by a process that has ended (or by this very
     * id: in a container the node may be process 1 at every start) is replaced.
     *
     * @throws IllegalStateException if the file names a running process, or holds something other than a
     *                               process id (it is left as it is)
     * @throws IOException           if it cannot be read or written
     */
    static PidFile claim(Path file) throws IOException {
        long me = ProcessHandle.current().pid();
        Optional<String> found = read(file);
        if (found.isPresent()) {
            String text = found.get().strip();
            if (!text.isEmpty()) { // empty: a start that died between creating and writing it
                long pid;
                try {
                    pid = Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("--pid-file " + file + " exists and does not hold a process id;"
                            + " it is left as it is: remove it or name another file");
                }
                if (pid != me && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    throw new IllegalStateException("--pid-file " + file + " names process " + pid
                            + ", which is running: is this node running already?");
                }
            }
            Files.deleteIfExists(file); // the process it names has ended
        }
        try {
            Files.writeString(file, me + System.lineSeparator(), StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("--pid-file " + file + " was created by another process meanwhile:"
                    + " is this node starting twice?");
        }
        return new PidFile(file, me);
    }

    /** Deletes the file if it still names this process; once, whoever calls it. */
    synchronized void release() {
        if (released) return;
        released = true;
        try {
            if (read(file).map(String::strip).filter(Long.toString(pid)::equals).isPresent()) Files.delete(file);
        } catch (IOException e) {
            // Exiting anyway: a file left behind names a process that has ended, which the next start replaces.
        }
    }

    private static Optional<String> read(Path file) throws IOException {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (MalformedInputException e) {
            return Optional.of("?"); // not ASCII, so not a process id
        }
    }
}
