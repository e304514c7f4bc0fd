package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** activa.vector.bits picks the CPU kernels' vector width; unset, they take the CPU's own. */
class VectorWidthTest {
    @Test
    void aNamedWidthGivesItsLanesAndNoneTheCpusOwn() {
        assertEquals(FloatVector.SPECIES_PREFERRED, FloatBlock.species(null));
        assertEquals(FloatVector.SPECIES_PREFERRED, FloatBlock.species(" "));
        assertEquals(4, FloatBlock.species("128").length());
        assertEquals(8, FloatBlock.species("256").length());
        assertEquals(16, FloatBlock.species(" 512").length());
    }

    @Test
    void anotherWidthIsRefusedWithWhatWouldDo() {
        var e = assertThrows(IllegalArgumentException.class, () -> FloatBlock.species("1024"));
        assertTrue(e.getMessage().contains("activa.vector.bits") && e.getMessage().contains("128, 256 or 512")
                && e.getMessage().contains("'1024'"), e.getMessage());
    }

    @Test
    void theTablesLookUpWithAsManyIntLanesAsFloatLanes() {
        assertEquals(FloatBlock.LANES, PiecewiseTable.INTS.length());
        assertEquals(FloatBlock.SPECIES.vectorShape(), PiecewiseTable.INTS.vectorShape());
    }
}
