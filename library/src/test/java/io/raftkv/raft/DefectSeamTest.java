package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The seam names exactly the core's defects, and switches on the one it names. */
class DefectSeamTest {
    @Test
    void theSeamNamesEachOfTheCoresDefects() {
        assertEquals(Arrays.stream(RaftConfig.Defect.values()).map(Enum::name).toList(),
                Arrays.stream(DefectSeam.Defect.values()).map(Enum::name).toList());
        for (DefectSeam.Defect d : DefectSeam.Defect.values()) {
            RaftConfig c = DefectSeam.with(RaftConfig.builder(1, java.util.Set.of(1), new java.util.SplittableRandom(1)), d).build();
            assertEquals(d.name(), c.defect().name());
        }
    }
}
