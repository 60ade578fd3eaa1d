package io.raftkv.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A whole sweep against a fake target: what it returns, prints and writes. */
class LatencyHarnessTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private List<RateResult> sweep(CommitTarget target, long... rates) throws InterruptedException {
        HarnessConfig config = HarnessConfig.builder().rates(rates).warmup(Duration.ofMillis(50))
                .duration(Duration.ofMillis(250)).maxClients(3).valueBytes(16).outputDir(dir.resolve("out")).build();
        PrintStream log = new PrintStream(printed, true, StandardCharsets.UTF_8);
        return new LatencyHarness(config, log).run(target, "a fake store");
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Test
    void writesOneHistogramPerRateAndTheSummaryAgreesWithTheResults() throws Exception {
        List<RateResult> results = sweep(FakeTarget.instant(), 200, 400);

        assertEquals(List.of(200L, 400L), results.stream().map(RateResult::targetRate).toList());
        assertEquals(List.of(50L, 100L), results.stream().map(RateResult::count).toList());

        Object parsed = TinyJson.parse(Files.readString(dir.resolve("out/summary.json")));
        Map<?, ?> summary = (Map<?, ?>) parsed;
        assertEquals("fake", summary.get("target"));
        assertEquals("a fake store", summary.get("description"));
        assertEquals("us", summary.get("latencyUnit"));
        List<?> rows = (List<?>) summary.get("results");
        assertEquals(2, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Map<?, ?> row = (Map<?, ?>) rows.get(i);
            RateResult r = results.get(i);
            assertEquals((double) r.targetRate(), row.get("targetRate"));
            assertEquals((double) r.count(), row.get("count"));
            assertEquals(0.0, row.get("errors"));
            assertNull(row.get("firstError"));
            Map<?, ?> latency = (Map<?, ?>) row.get("latency");
            assertEquals(Percentiles.LABELS, List.copyOf(latency.keySet()));
            assertEquals(r.latency().p99() / 1e3, (Double) latency.get("p99"), 0.001);
            assertEquals(r.latency().max() / 1e3, (Double) latency.get("max"), 0.001);

            String hgrm = Files.readString(dir.resolve("out").resolve((String) row.get("histogram")));
            assertTrue(hgrm.contains("Value     Percentile TotalCount 1/(1-Percentile)"), hgrm);
            Matcher total = Pattern.compile("Total count\\s*=\\s*(\\d+)]").matcher(hgrm);
            assertTrue(total.find(), hgrm);
            assertEquals(r.count(), Long.parseLong(total.group(1)));
        }
    }

    @Test
    void drawsAWellFormedPercentilePlotWithALineAndALegendEntryPerRate() throws Exception {
        sweep(FakeTarget.instant(), 200, 400, 600);

        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document svg = f.newDocumentBuilder().parse(dir.resolve("out/latency-percentiles.svg").toFile());
        assertEquals("svg", svg.getDocumentElement().getLocalName());
        assertEquals("http://www.w3.org/2000/svg", svg.getDocumentElement().getNamespaceURI());
        assertEquals(3, svg.getElementsByTagNameNS("*", "polyline").getLength());

        StringBuilder texts = new StringBuilder();
        NodeList t = svg.getElementsByTagNameNS("*", "text");
        for (int i = 0; i < t.getLength(); i++) texts.append(t.item(i).getTextContent()).append('|');
        for (String label : List.of("200/s", "400/s", "600/s", "percentile", "latency (µs, log scale)", "99.999%", "90%")) {
            assertTrue(texts.indexOf(label) >= 0, label + " missing from " + texts);
        }
    }

    @Test
    void printsATableAndAWarningForARateTheTargetCannotReach() throws Exception {
        // One 5 ms write at a time in each of 3 clients: at most 600 writes/s.
        List<RateResult> results = sweep(FakeTarget.withServiceTime(Duration.ofMillis(5)), 100, 3_000);

        assertFalse(results.get(1).reachedTarget(), results.get(1).toString());
        String out = printed();
        assertTrue(out.contains("target/s") && out.contains("reached/s") && out.contains("p99.99"), out);
        assertTrue(out.contains("WARNING at 3,000 writes/s: target rate NOT reached"), out);
        assertEquals(results.get(0).warning().isPresent(), out.contains("WARNING at 100 writes/s"), out);
    }
}
