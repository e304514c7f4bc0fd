package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.activa.backend.cuda.Cublas.Operation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the cuBLAS binding against a stand-in whose GEMMs compute column-major on host memory, so
 * the row-major mapping of {@link Cublas#gemmRowMajor} is checked against a naive product.
 */
class CublasBindingTest {
    @BeforeAll
    static void buildFake(@TempDir Path dir) throws Exception {
        assumeTrue(FakeLibraries.compilerAvailable(), "no C compiler to build the stand-in cuBLAS");
        Path so = FakeLibraries.build(dir, "libfakecublas.so", FakeLibraries.CUBLAS);
        var library = new NativeLibraries.Library("cuBLAS", so, "13.0.2", List.of(), List.of(), Dl.open(so.toString()));
        Cublas.Api.bindTo(() -> library);
    }

    @AfterAll
    static void unbind() {
        Cublas.Api.bindTo(null);
    }

    /** Row-major A (rows×cols) stored with row stride ld ≥ cols; transposed views read it accordingly. */
    static float at(float[] m, int ld, boolean transposed, int i, int j) {
        return transposed ? m[j * ld + i] : m[i * ld + j];
    }

    @Test
    void rowMajorGemmMatchesANaiveProductForEveryTransposeCombination() {
        int m = 5, n = 3, k = 4;
        var random = new Random(3);
        try (Cublas cublas = Cublas.create(0x77); Arena arena = Arena.ofConfined()) {
            assertEquals(130002, cublas.handleVersion());
            for (Operation ta : Operation.values()) {
                for (Operation tb : Operation.values()) {
                    for (boolean ex : new boolean[] {false, true}) {
                        boolean tA = ta == Operation.T, tB = tb == Operation.T;
                        // stored shapes: A is m×k (or k×m when transposed), B is k×n (or n×k); padded row strides
                        int lda = (tA ? m : k) + 2, ldb = (tB ? k : n) + 1, ldc = n + 3;
                        float[] a = new float[(tA ? k : m) * lda], b = new float[(tB ? n : k) * ldb], c = new float[m * ldc];
                        for (int i = 0; i < a.length; i++) a[i] = random.nextInt(7) - 3;
                        for (int i = 0; i < b.length; i++) b[i] = random.nextInt(7) - 3;
                        for (int i = 0; i < c.length; i++) c[i] = random.nextInt(5);
                        float alpha = 2, beta = 0.5f;
                        float[] expected = c.clone();
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                float s = 0;
                                for (int p = 0; p < k; p++) s += at(a, lda, tA, i, p) * at(b, ldb, tB, p, j);
                                expected[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
                            }
                        }
                        MemorySegment da = arena.allocateFrom(JAVA_FLOAT, a), db = arena.allocateFrom(JAVA_FLOAT, b),
                                dc = arena.allocateFrom(JAVA_FLOAT, c);
                        if (ex) {
                            cublas.gemmRowMajor(ta, tb, m, n, k, alpha, da.address(), lda, db.address(), ldb, beta,
                                    dc.address(), ldc, Cublas.DataType.R_32F);
                        } else {
                            cublas.gemmRowMajor(ta, tb, m, n, k, alpha, da.address(), lda, db.address(), ldb, beta,
                                    dc.address(), ldc);
                        }
                        float[] got = dc.toArray(JAVA_FLOAT);
                        // padding columns of C stay untouched; compare the whole buffer
                        assertArrayEquals(expected, got, 1e-5f, ta + "/" + tb + (ex ? " via GemmEx" : " via Sgemm"));
                    }
                }
            }
        }
    }

    @Test
    void statusErrorsNameTheFunctionAndCublasWords() {
        try (Cublas cublas = Cublas.create(0)) {
            var e = assertThrows(NativeCallException.class,
                    () -> cublas.sgemm(Operation.N, Operation.N, -1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1));
            assertEquals(7, e.status());
            assertTrue(e.getMessage().contains("cuBLAS cublasSgemm_v2 failed: the parameters are invalid (7)"), e.getMessage());
            cublas.setMathMode(Cublas.MathMode.TF32_TENSOR_OP_MATH);
        }
    }
}
