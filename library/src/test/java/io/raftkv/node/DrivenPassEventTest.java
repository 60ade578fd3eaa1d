package io.raftkv.node;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pass events of a driven node, counted exactly: one per pass that did something, with what it did. */
class DrivenPassEventTest {

    @Test
    void aPassThatDidSomethingIsRecordedWithItsCountsAndAnIdlePassIsNot(@TempDir Path dir) throws Exception {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        c.elect(1);
        c.put(1, 1);
        Path file = dir.resolve("driven.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("io.raftkv.NodePass").withoutThreshold();
            recording.start();
            c.ticks(3); // idle: nothing arrives, nothing is written or applied
            assertEquals(3L, c.put(1, 2));
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertEquals(1, events.size(), "the idle passes are not recorded: " + events);
        RecordedEvent e = events.get(0);
        assertEquals(1, e.getInt("node"));
        assertTrue(e.getBoolean("leader"));
        assertEquals(1, e.getInt("inboxItems"));
        assertEquals(1, e.getInt("proposals"));
        assertEquals(1, e.getInt("entriesPersisted"));
        assertEquals(1 + 24, e.getLong("bytesPersisted"), "a one-byte command and its 24 bytes of entry");
        assertEquals(1, e.getInt("entriesApplied"));
        assertEquals(1, e.getInt("answers"));
        long wait = e.getLong("longestInboxWait");
        assertTrue(wait > 0 && wait < 1_000_000_000L, "waited " + wait + " ns in the inbox (proposed just before the pass)");
        for (String stage : List.of("inboxNanos", "readyNanos", "sendNanos", "persistNanos", "applyNanos", "answerNanos")) {
            assertTrue(e.getLong(stage) >= 0 && e.getLong(stage) <= e.getDuration().toNanos(), stage + " in " + e);
        }
        assertTrue(e.getLong("inboxNanos") > 0, "taking the proposal took some time");
        assertFalse(e.getDuration().isNegative());
    }
}
