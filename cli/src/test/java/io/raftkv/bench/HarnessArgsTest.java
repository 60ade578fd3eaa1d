package io.raftkv.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harness's command line: what it accepts, and what it says about what it does not. */
class HarnessArgsTest {
    /** A command with nothing but the harness's options, as raftkv bench and LatencyHarnessMain have them. */
    @Command(name = "harness")
    static final class Harness {
        @Mixin
        HarnessArgs args;
    }

    /** The options read from {@code args}, every range checked. */
    private static HarnessArgs parse(String... args) {
        Harness h = new Harness();
        new CommandLine(h).parseArgs(args);
        h.args.nodes();
        h.args.spins();
        h.args.config();
        return h.args;
    }

    @Test
    void noOptionsMeanTheDefaults() {
        HarnessArgs a = parse();
        assertEquals(3, a.nodes());
        assertEquals(0, a.spins());
        HarnessConfig c = a.config();
        // No --out: a directory of the run's own under bench-out, named for its start, never a fixed one.
        assertTrue(c.outputDir().toString().matches("bench-out[/\\\\]\\d{8}-\\d{6}"), c.outputDir()::toString);
        assertEquals(HarnessConfig.builder().outputDir(c.outputDir()).build(), c, "the options' defaults are the builder's");
        assertEquals(Path.of("bench-out", "20250603-140712"),
                HarnessConfig.newOutputDir(LocalDateTime.of(2025, 6, 3, 14, 7, 12).atZone(ZoneId.systemDefault()).toInstant()));
    }

    @Test
    void everyOptionIsRead() {
        HarnessArgs a = parse("--nodes", "5", "--rates", "1000,10000,50000", "--duration", "500ms",
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
    void ratesGivenAgainReplaceTheDefaultAndAddUp() {
        assertEquals(List.of(300L, 100L, 200L), parse("--rates", "300", "--rates=100,200").config().rates());
    }

    @Test
    void aWarmUpOfZeroIsAllowedButNotAMeasurementOfZero() {
        assertEquals(Duration.ZERO, parse("--warmup", "0").config().warmup());
        assertError("Invalid value for option '--duration': the measured time must be longer than zero",
                "--duration", "0s");
    }

    @Test
    void badOptionsAreRefusedSayingWhatIsAllowed() {
        assertError("Unknown options: '--rate', '1000'", "--rate", "1000");
        assertError("Missing required parameter for option '--nodes'", "--nodes");
        assertError("Invalid value for option '--nodes': 100 is not between 1 and 99", "--nodes", "100");
        assertError("Invalid value for option '--rates' (RATE): '10k' is not a whole number of writes per second",
                "--rates", "10k");
        assertError("'' is not a whole number of writes per second", "--rates", "1000,,2000");
        assertError("Invalid value for option '--rates' (RATE): 0 is not between 1 and 1000000000", "--rates", "0");
        assertError("Invalid value for option '--rates': rate 1000 is listed twice", "--rates", "1000,1000");
        assertError("Invalid value for option '--duration': '5' is not a duration such as 5s, 500ms or 1m",
                "--duration", "5");
        assertError("Invalid value for option '--warmup': '-1s' is not a duration", "--warmup", "-1s");
        assertError("Invalid value for option '--clients': 0 is not between 1 and 10000", "--clients", "0");
        assertError("Invalid value for option '--value-bytes': 'big' is not an int", "--value-bytes", "big");
        assertError("Invalid value for option '--out': a directory is needed", "--out", " ");
        assertError("Invalid value for option '--spins': -1 is not between 0 and", "--spins", "-1");
    }

    @Test
    void helpIsNotAnError() {
        StringWriter out = new StringWriter();
        assertEquals(0, main(out, new StringWriter(), "--clients", "3", "--help"));
        assertTrue(out.toString().startsWith("Usage: LatencyHarnessMain "), out::toString);
    }

    @Test
    void theMainProgramExitsWithStatusTwoOnABadOption() {
        StringWriter err = new StringWriter();
        assertEquals(2, main(new StringWriter(), err, "--nodes", "zero"));
        assertTrue(err.toString().startsWith("Invalid value for option '--nodes': 'zero' is not an int"), err::toString);
        err.getBuffer().setLength(0);
        assertEquals(2, main(new StringWriter(), err, "--nodes", "0"));
        assertTrue(err.toString().startsWith("Invalid value for option '--nodes': 0 is not between 1 and 99"),
                err::toString);
    }

    private static int main(StringWriter out, StringWriter err, String... args) {
        return new CommandLine(new LatencyHarnessMain()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(args);
    }

    private static void assertError(String expected, String... args) {
        ParameterException e = assertThrows(ParameterException.class, () -> parse(args));
        assertTrue(e.getMessage().contains(expected),
                "message: " + e.getMessage());
    }
}
