package io.raftkv.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harness's command line: what it accepts, and what it says about what it does not. */
class HarnessArgsTest {
    @Test
    void noOptionsMeanTheDefaults() {
        HarnessArgs a = HarnessArgs.parse();
        assertEquals(3, a.nodes());
        assertEquals(0, a.spins());
        assertEquals(HarnessConfig.builder().build(), a.config());
    }

    @Test
    void everyOptionIsRead() {
        HarnessArgs a = HarnessArgs.parse("--nodes", "5", "--rates", "1000,10000,50000", "--duration", "500ms",
                "--warmup=1m", "--clients", "8", "--value-bytes", "256", "--out", "x/y", "--spins=200");
        assertEquals(5, a.nodes());
        assertEquals(200, a.spins());
        HarnessConfig c = a.config();
        assertEquals(List.of(1_000L, 10_000L, 50_000L), c.rates());
        assertEquals(Duration.ofMillis(500), c.duration());
        assertEquals(Duration.ofMinutes(1), c.warmup());
        assertEquals(8, c.maxClients());
        assertEquals(256, c.valueBytes());
        assertEquals(Path.of("x/y"), c.outputDir());
    }

    @Test
    void aWarmUpOfZeroIsAllowedButNotAMeasurementOfZero() {
        assertEquals(Duration.ZERO, HarnessArgs.parse("--warmup", "0").config().warmup());
        assertError("--duration must be longer than zero", "--duration", "0s");
    }

    @Test
    void badOptionsAreRefusedSayingWhatIsAllowed() {
        assertError("unknown option '--rate'", "--rate", "1000");
        assertError("--nodes needs a value", "--nodes");
        assertError("--nodes must be between 1 and 99, was 100", "--nodes", "100");
        assertError("--rates takes a comma-separated list of whole writes per second", "--rates", "10k");
        assertError("--rates takes a comma-separated list", "--rates", "1000,,2000");
        assertError("--rates: each rate must be between 1 and", "--rates", "0");
        assertError("rate 1000 is listed twice", "--rates", "1000,1000");
        assertError("--duration takes a duration such as 5s, 500ms or 1m, not '5'", "--duration", "5");
        assertError("--clients must be between 1 and 10000, was 0", "--clients", "0");
        assertError("--value-bytes takes a whole number, not 'big'", "--value-bytes", "big");
        assertError("--out needs a directory", "--out", " ");
    }

    @Test
    void helpIsNotAnError() throws InterruptedException {
        assertTrue(HarnessArgs.parse("--clients", "3", "--help").help());
        assertEquals(0, LatencyHarnessMain.run("--help"));
    }

    @Test
    void theMainProgramExitsWithStatusTwoOnABadOption() throws InterruptedException {
        assertEquals(2, LatencyHarnessMain.run("--nodes", "zero"));
    }

    private static void assertError(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HarnessArgs.parse(args));
        assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage());
    }
}
