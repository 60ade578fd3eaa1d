package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A configuration's rules and its bytes: every change checked, every damaged encoding refused. */
class ConfigurationTest {
    private static final Configuration THREE = Configuration.ofVoters(Set.of(1, 2, 3));

    @Test
    void changesApplyOneServerAtATimeAndRefuseWhatDoesNotFit() {
        Configuration withLearner = THREE.apply(ConfigChange.addLearner(4));
        assertEquals(new Configuration(new TreeSet<>(Set.of(1, 2, 3)), new TreeSet<>(Set.of(4))), withLearner);
        assertEquals(Set.of(1, 2, 3, 4), withLearner.apply(ConfigChange.promote(4)).voters());
        assertEquals(Set.of(1, 2, 3), withLearner.apply(ConfigChange.remove(4)).members());
        assertThrows(IllegalArgumentException.class, () -> THREE.apply(ConfigChange.addLearner(2)));
        assertThrows(IllegalArgumentException.class, () -> THREE.apply(ConfigChange.promote(2)));
        assertThrows(IllegalArgumentException.class, () -> THREE.apply(ConfigChange.remove(7)));
        assertThrows(IllegalArgumentException.class, () -> Configuration.ofVoters(Set.of(1)).apply(ConfigChange.remove(1)));
        assertThrows(IllegalArgumentException.class, () -> new Configuration(new TreeSet<>(Set.of(1)), new TreeSet<>(Set.of(1))));
        assertThrows(IllegalArgumentException.class, () -> Configuration.ofVoters(Set.of()));
    }

    @Test
    void theBytesRoundTripAndAnyCutOrOverlongEncodingIsRefused() {
        Configuration c = new Configuration(new TreeSet<>(Set.of(1, 2, 3, 200)), new TreeSet<>(Set.of(9, Integer.MAX_VALUE)));
        byte[] bytes = c.encode();
        assertEquals(c.encodedSize(), bytes.length);
        assertEquals(c, Configuration.decode(bytes));
        assertArrayEquals(bytes, Configuration.decode(bytes).encode(), "one configuration, one byte string");
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThrows(IllegalArgumentException.class, () -> Configuration.decode(cut), "cut at " + n);
        }
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Configuration.decode(longer)).getMessage()
                .contains("after its end"));
    }

    @Test
    void aMembersContextComesWithItsAdditionStaysThroughPromotionAndGoesWithItsRemoval() {
        Configuration c = Configuration.ofVoters(Map.of(1, "a:1", 2, "b:2", 3, "c:3")).withFeatureLevel(2);
        Configuration added = c.apply(ConfigChange.addLearner(4, "d:4"));
        assertEquals("d:4", added.context(4));
        assertEquals("d:4", added.apply(ConfigChange.promote(4)).context(4));
        Configuration removed = added.apply(ConfigChange.promote(4)).apply(ConfigChange.remove(1));
        assertEquals(Map.of(2, "b:2", 3, "c:3", 4, "d:4"), removed.contexts());
        assertEquals(null, THREE.apply(ConfigChange.addLearner(4)).context(4));
        assertThrows(IllegalArgumentException.class, () -> new ConfigChange(ConfigChange.Kind.PROMOTE, 4, "d:4"));
        assertThrows(IllegalArgumentException.class, () -> ConfigChange.addLearner(4, "x".repeat(Configuration.MAX_CONTEXT_BYTES + 1)));
        assertThrows(IllegalArgumentException.class, () -> ConfigChange.addLearner(4, "höst:1"), "printable ASCII only");
        assertThrows(IllegalArgumentException.class, () -> ConfigChange.addLearner(4, "a\nb"), "printable ASCII only");
        assertThrows(IllegalArgumentException.class, () -> new Configuration(new TreeSet<>(Set.of(1)), new TreeSet<>(),
                new java.util.TreeMap<>(Map.of(2, "b:2"))), "only a member has a context");
    }

    @Test
    void aConfigurationWithoutContextsKeepsItsOldBytesAndOneWithThemRoundTrips() {
        assertEquals(1, THREE.encode()[0], "no contexts: the format every store already holds");
        Configuration c = Configuration.ofVoters(Map.of(1, "[::1]:7001", 2, "", 3, "c:3")).apply(ConfigChange.addLearner(9));
        byte[] bytes = c.encode();
        assertEquals(2, bytes[0]);
        assertEquals(c.encodedSize(), bytes.length);
        assertEquals(c, Configuration.decode(bytes));
        assertArrayEquals(bytes, Configuration.decode(bytes).encode(), "one configuration, one byte string");
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThrows(IllegalArgumentException.class, () -> Configuration.decode(cut), "cut at " + n);
        }
        assertThrows(IllegalArgumentException.class, () -> Configuration.decode(Arrays.copyOf(bytes, bytes.length + 1)));
    }

    @Test
    void theFeatureLevelIsKeptByEveryChangeAndWrittenOnlyAboveLevelOne() {
        assertEquals(FeatureLevel.BASE, THREE.featureLevel());
        assertEquals(1, Configuration.decode(THREE.encode()).featureLevel(), "formats 1 and 2 are level 1");
        Configuration two = THREE.withFeatureLevel(2);
        byte[] bytes = two.encode();
        assertEquals(3, bytes[0], "a level above 1: a format no older build reads");
        assertEquals(2, bytes[1]);
        assertEquals(two.encodedSize(), bytes.length);
        assertEquals(two, Configuration.decode(bytes));
        Configuration changed = two.apply(ConfigChange.addLearner(4, "d:4")).apply(ConfigChange.promote(4))
                .apply(ConfigChange.remove(1));
        assertEquals(2, changed.featureLevel(), "kept through changes");
        assertEquals(changed, Configuration.decode(changed.encode()));
        assertArrayEquals(changed.encode(), Configuration.decode(changed.encode()).encode());
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThrows(IllegalArgumentException.class, () -> Configuration.decode(cut), "cut at " + n);
        }
        byte[] levelOne = bytes.clone();
        levelOne[1] = 1;
        assertThrows(IllegalArgumentException.class, () -> Configuration.decode(levelOne), "level 1 has formats of its own");
        assertThrows(IllegalArgumentException.class, () -> THREE.withFeatureLevel(0));
        randomBytesNeverDecodeToSomethingInvalid(changed.encode());
    }

    @Test
    void randomBytesNeverDecodeToSomethingInvalid() {
        randomBytesNeverDecodeToSomethingInvalid(THREE.apply(ConfigChange.addLearner(4)).encode());
        randomBytesNeverDecodeToSomethingInvalid(Configuration.ofVoters(Map.of(1, "a:1", 2, "b:22")).withFeatureLevel(2)
                .apply(ConfigChange.addLearner(4, "d:4")).encode());
    }

    private static void randomBytesNeverDecodeToSomethingInvalid(byte[] base) {
        long seed = System.nanoTime();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 100_000; i++) {
            byte[] b = base.clone();
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            try {
                Configuration c = Configuration.decode(b);
                assertTrue(!c.voters().isEmpty() && c.voters().stream().noneMatch(c.learners()::contains), "seed " + seed);
                assertArrayEquals(b, c.encode(), "seed " + seed + ": a decoded configuration re-encodes to its bytes");
            } catch (IllegalArgumentException refused) {
                // what the decoder must do with anything that is not a configuration
            }
        }
    }
}
