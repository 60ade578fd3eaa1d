package io.raftkv.frontend;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortPlanTest {
    @Test
    void theHarnessPortsServer9000PlusIAndSource7001PlusNsPlusD() {
        for (int n = 1; n <= PortPlan.MAX_SERVERS; n++) {
            PortPlan plan = PortPlan.standard(n);
            Set<Integer> sources = new HashSet<>();
            for (int s = 0; s < n; s++) {
                assertEquals(new InetSocketAddress("127.0.0.1", 9001 + s), plan.server(s + 1));
                for (int d = 0; d < n; d++) {
                    if (s == d) continue;
                    int port = plan.sourcePort(s + 1, d + 1);
                    assertEquals(7001 + n * s + d, port, "the harness's formula, s and d 0-based");
                    assertTrue(sources.add(port), "every link has a port of its own");
                    assertEquals(port, plan.dialFrom(s + 1).get(d + 1).getPort());
                }
            }
            assertEquals(n, plan.addresses().size());
        }
    }

    @Test
    void badPlansAreRefusedWithTheReason() {
        String tooMany = assertThrows(IllegalArgumentException.class, () -> PortPlan.standard(10)).getMessage();
        assertTrue(tooMany.contains("1 to 9") && tooMany.contains("raftserver10"), tooMany);
        assertThrows(IllegalArgumentException.class, () -> PortPlan.standard(0));
        String high = assertThrows(IllegalArgumentException.class, () -> new PortPlan(5, 65532, 7001)).getMessage();
        assertTrue(high.contains("65533..65537"), high);
        String overlap = assertThrows(IllegalArgumentException.class, () -> new PortPlan(5, 7010, 7001)).getMessage();
        assertTrue(overlap.contains("overlap"), overlap);
        PortPlan plan = PortPlan.standard(3);
        assertThrows(IllegalArgumentException.class, () -> plan.server(4));
        assertThrows(IllegalArgumentException.class, () -> plan.sourcePort(2, 2));
    }
}
