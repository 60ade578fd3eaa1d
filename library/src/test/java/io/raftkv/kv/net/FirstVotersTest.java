package io.raftkv.kv.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A socket-mode node's first voters are recorded at its first start and never change: a restart with
 * another list (or none, which would mean every peer) cannot make it count a different majority.
 */
class FirstVotersTest {
    @Test
    void theFirstStartRecordsTheVotersAndLaterStartsKeepThem(@TempDir Path dir) {
        assertEquals(Set.of(1, 2, 3), SocketNode.firstVoters(dir, Set.of(1, 2, 3), Set.of(1, 2, 3)));
        assertTrue(Files.exists(dir.resolve(SocketNode.FIRST_VOTERS_FILE)));
        assertFalse(Files.exists(dir.resolve(SocketNode.FIRST_VOTERS_FILE + ".tmp")));
        // Restarted without --voters, whose default would be every peer (1..5): the record wins.
        assertEquals(Set.of(1, 2, 3), SocketNode.firstVoters(dir, Set.of(), Set.of(1, 2, 3, 4, 5)));
        assertEquals(Set.of(1, 2, 3), SocketNode.firstVoters(dir, Set.of(3, 2, 1), Set.of(1, 2, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SocketNode.firstVoters(dir, Set.of(1, 2, 3, 4), Set.of(1, 2, 3, 4)));
        assertTrue(e.getMessage().contains("first voters are [1, 2, 3], not [1, 2, 3, 4]"), e.getMessage());
    }

    @Test
    void aDamagedRecordIsReportedNotGuessed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(SocketNode.FIRST_VOTERS_FILE), "1,two,3\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SocketNode.firstVoters(dir, Set.of(), Set.of(1, 2, 3)));
        assertTrue(e.getMessage().contains("does not hold a list of node ids"), e.getMessage());
    }
}
