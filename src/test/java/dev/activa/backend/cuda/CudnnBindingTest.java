package dev.activa.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.activa.backend.cuda.ConvAlgorithmCache.Direction;
import dev.activa.backend.cuda.ConvAlgorithmCache.Mode;
import dev.activa.backend.cuda.CudnnDescriptor.Convolution;
import dev.activa.backend.cuda.CudnnDescriptor.ConvolutionShape;
import dev.activa.backend.cuda.CudnnDescriptor.Filter;
import dev.activa.backend.cuda.CudnnDescriptor.Pooling;
import dev.activa.backend.cuda.CudnnDescriptor.PoolingShape;
import dev.activa.backend.cuda.CudnnDescriptor.Tensor;
import dev.activa.backend.cuda.CudnnDescriptor.TensorShape;
import dev.activa.backend.cuda.CudnnTypes.BatchNormMode;
import dev.activa.backend.cuda.CudnnTypes.DataType;
import dev.activa.backend.cuda.CudnnTypes.MathType;
import dev.activa.backend.cuda.CudnnTypes.TensorFormat;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the cuDNN binding against a logging stand-in library: argument order, marshalling, result parsing. */
class CudnnBindingTest {
    static Dl.Library fake;
    static MethodHandle log, reset;

    @BeforeAll
    static void buildFake(@TempDir Path dir) throws Exception {
        assumeTrue(FakeLibraries.compilerAvailable(), "no C compiler to build the stand-in cuDNN");
        Path so = FakeLibraries.build(dir, "libfakecudnn.so", FakeLibraries.CUDNN);
        fake = Dl.open(so.toString());
        var library = new NativeLibraries.Library("cuDNN", so, "9.6.0", List.of(), List.of(), fake);
        CudnnApi.bindTo(() -> library);
        Linker linker = Linker.nativeLinker();
        log = linker.downcallHandle(fake.find("fake_log").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS));
        reset = linker.downcallHandle(fake.find("fake_reset").orElseThrow(), FunctionDescriptor.ofVoid());
    }

    @AfterAll
    static void unbind() {
        CudnnApi.bindTo(null);
    }

    @BeforeEach
    void clearLog() throws Throwable {
        reset.invokeExact();
    }

    static String log() throws Throwable {
        return ((MemorySegment) log.invokeExact()).reinterpret(1 << 16).getString(0);
    }

    static String hex(MemorySegment handle) {
        return "0x" + Long.toHexString(handle.address());
    }

    @Test
    void descriptorsPassTheirFieldsInHeaderOrder() throws Throwable {
        try (Tensor x = Tensor.of(TensorFormat.NHWC, DataType.HALF, 2, 3, 5, 7);
             Filter w = Filter.of(TensorFormat.NHWC, DataType.HALF, 4, 3, 3, 1);
             Convolution conv = Convolution.of(new ConvolutionShape(1, 0, 2, 1, 1, 3,
                     CudnnTypes.ConvolutionMode.CROSS_CORRELATION, DataType.FLOAT, MathType.TENSOR_OP_MATH, 2));
             Pooling pool = Pooling.of(PoolingShape.max(3, 2, 1))) {
            String log = log();
            assertTrue(log.contains("tensor " + hex(x.handle()) + " format=1 type=2 2 3 5 7"), log);
            assertTrue(log.contains("filter " + hex(w.handle()) + " type=2 format=1 4 3 3 1"), log);
            assertTrue(log.contains("conv " + hex(conv.handle()) + " pad=1,0 stride=2,1 dilation=1,3 mode=1 type=0"), log);
            assertTrue(log.contains("math " + hex(conv.handle()) + " 1"), log);
            assertTrue(log.contains("groups 2"), log);
            assertTrue(log.contains("pooling mode=0 nan=0 3 3 1 1 2 2"), log);
            assertEquals(new TensorShape(TensorFormat.NHWC, DataType.HALF, 2, 4, 5, 5), conv.outputShape(x, w));
            assertEquals(new TensorShape(TensorFormat.NHWC, DataType.HALF, 2, 4, 2, 2), pool.outputShape(x));
        }
    }

    @Test
    void errorsCarryCudnnsOwnWords() {
        var e = assertThrows(NativeCallException.class, () -> Tensor.of(TensorFormat.NCHW, DataType.FLOAT, 0, 1, 1, 1));
        assertEquals(2000, e.status());
        assertTrue(e.getMessage().contains("cudnnSetTensor4dDescriptor failed: CUDNN_STATUS_BAD_PARAM (2000)"), e.getMessage());
        assertTrue(e.getMessage().contains("n must be positive"), e.getMessage());
    }

    @Test
    void aFailedCountNamesTheFunctionThatFailedInEitherMode() throws Throwable {
        var failMaxCount = Linker.nativeLinker().downcallHandle(fake.find("fake_fail_max_count").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        try (Cudnn cudnn = Cudnn.create(0xabcdL);
             Tensor x = Tensor.of(TensorFormat.NCHW, DataType.FLOAT, 2, 3, 5, 5);
             Filter w = Filter.of(TensorFormat.NCHW, DataType.FLOAT, 4, 3, 3, 3);
             Convolution conv = Convolution.of(ConvolutionShape.of(1, 1, MathType.FMA_MATH));
             Tensor y = Tensor.of(conv.outputShape(x, w))) {
            failMaxCount.invokeExact(1);
            for (Mode mode : Mode.values()) {
                var e = assertThrows(NativeCallException.class, () -> cudnn.algorithms(Direction.BACKWARD_FILTER, x, w, conv, y, mode));
                assertTrue(e.getMessage().startsWith("cuDNN cudnnGetConvolutionBackwardFilterAlgorithmMaxCount failed"), e.getMessage());
            }
        } finally {
            failMaxCount.invokeExact(0);
        }
    }

    @Test
    void algorithmSearchesParseResultsAndSkipFailures() throws Throwable {
        try (Cudnn cudnn = Cudnn.create(0xabcdL);
             Tensor x = Tensor.of(TensorFormat.NCHW, DataType.FLOAT, 2, 3, 5, 5);
             Filter w = Filter.of(TensorFormat.NCHW, DataType.FLOAT, 4, 3, 3, 3);
             Convolution conv = Convolution.of(ConvolutionShape.of(1, 1, MathType.FMA_MATH));
             Tensor y = Tensor.of(conv.outputShape(x, w))) {
            assertTrue(log().contains("setStream 0xabcd"));
            var heuristic = cudnn.algorithms(Direction.FORWARD, x, w, conv, y, Mode.HEURISTIC);
            assertEquals(2, heuristic.size(), "the NOT_SUPPORTED entry is dropped: " + heuristic);
            var first = heuristic.getFirst();
            assertEquals(1, first.algorithm());
            assertEquals("IMPLICIT_PRECOMP_GEMM", first.algorithmName());
            assertEquals(MathType.TENSOR_OP_MATH, first.mathType());
            assertEquals(1001, first.workspaceBytes(), "heuristic results ask for the workspace size");
            assertEquals(0.5f, first.timeMs());
            assertTrue(first.deterministic());
            assertTrue(!heuristic.get(1).deterministic());
            String log = log();
            assertTrue(log.contains("fwdHeuristic " + hex(x.handle()) + " " + hex(w.handle()) + " " + hex(conv.handle())
                    + " " + hex(y.handle()) + " requested=3"), log);
            assertTrue(log.strip().endsWith("math " + hex(conv.handle()) + " 3"), "the descriptor's own math type is restored: " + log);

            var found = cudnn.algorithms(Direction.FORWARD, x, w, conv, y, Mode.BENCHMARK);
            assertEquals(4096, found.getFirst().workspaceBytes(), "benchmark results carry their workspace");

            reset.invokeExact();
            var data = cudnn.algorithms(Direction.BACKWARD_DATA, x, w, conv, y, Mode.HEURISTIC);
            assertEquals(2001, data.getFirst().workspaceBytes());
            assertTrue(log().contains("bwdDataHeuristic " + hex(w.handle()) + " " + hex(y.handle()) + " "
                    + hex(conv.handle()) + " " + hex(x.handle())), log());
            var filter = cudnn.algorithms(Direction.BACKWARD_FILTER, x, w, conv, y, Mode.BENCHMARK);
            assertTrue(log().contains("bwdFilterFind " + hex(x.handle()) + " " + hex(y.handle()) + " "
                    + hex(conv.handle()) + " " + hex(w.handle())), log());

            reset.invokeExact();
            cudnn.convolutionForward(1f, x, 0x1000, w, 0x2000, conv, first, 0x3000, 4096, 0.5f, y, 0x4000);
            log = log();
            assertTrue(log.contains("math " + hex(conv.handle()) + " 1"), "runs under the algorithm's math type: " + log);
            assertTrue(log.contains("convFwd alpha=1 beta=0.5 x=0x1000 w=0x2000 algo=1 ws=0x3000 wss=4096 y=0x4000"), log);
            cudnn.convolutionBackwardData(2f, w, 0x2000, y, 0x4000, conv, data.getFirst(), 0, 0, 0f, x, 0x5000);
            assertTrue(log().contains("convBwdData alpha=2 beta=0 w=0x2000 dy=0x4000 algo=1 dx=0x5000"), log());
            cudnn.convolutionBackwardFilter(1f, x, 0x1000, y, 0x4000, conv, filter.getFirst(), 0, 0, 1f, w, 0x6000);
            assertTrue(log().contains("convBwdFilter alpha=1 beta=1 x=0x1000 dy=0x4000 algo=1 dw=0x6000"), log());
            assertThrows(IllegalArgumentException.class,
                    () -> cudnn.convolutionForward(1f, x, 0, w, 0, conv, data.getFirst(), 0, 0, 0f, y, 0));
        }
    }

    @Test
    void cacheSearchesEachShapeOnce() {
        try (Cudnn cudnn = Cudnn.create(0)) {
            var cache = new ConvAlgorithmCache(cudnn.search(Mode.HEURISTIC), 1 << 20, false);
            var x = new TensorShape(TensorFormat.NCHW, DataType.FLOAT, 2, 3, 5, 5);
            var w = new CudnnDescriptor.FilterShape(TensorFormat.NCHW, DataType.FLOAT, 4, 3, 3, 3);
            var conv = ConvolutionShape.of(1, 1, MathType.DEFAULT_MATH);
            var y = new TensorShape(TensorFormat.NCHW, DataType.FLOAT, 2, 4, 5, 5);
            var key = new ConvAlgorithmCache.Key(Direction.FORWARD, x, w, conv, y);
            var a = cache.get(key);
            var b = cache.get(new ConvAlgorithmCache.Key(Direction.FORWARD, x, w, conv, y));
            assertEquals(a, b);
            assertEquals(1, cache.searches());
            var deterministic = new ConvAlgorithmCache(cudnn.search(Mode.HEURISTIC), 1 << 20, true);
            assertTrue(deterministic.get(key).deterministic());
            var tiny = new ConvAlgorithmCache(cudnn.search(Mode.BENCHMARK), 100, false);
            assertThrows(IllegalStateException.class, () -> tiny.get(key), "no candidate fits 100 bytes of workspace");
        }
    }

    @Test
    void batchNormAndPoolingPassScalarsAndBuffers() throws Throwable {
        try (Cudnn cudnn = Cudnn.create(0);
             Tensor x = Tensor.of(TensorFormat.NHWC, DataType.HALF, 8, 16, 4, 4);
             Tensor params = cudnn.batchNormParameters(x, BatchNormMode.forLayout(TensorFormat.NHWC))) {
            assertTrue(log().contains("deriveBN " + hex(params.handle()) + " from " + hex(x.handle()) + " mode=2"), log());
            cudnn.batchNormForwardTraining(BatchNormMode.SPATIAL_PERSISTENT, x, 0x10, x, 0x20, params, 0x30, 0x40,
                    0.1, 0x50, 0x60, 1e-5, 0, 0x80);
            assertTrue(log().contains("bnTrain mode=2 alpha=1 beta=0 factor=0.1 eps=1e-05 scale=0x30 rm=0x50 sm=(nil)"), log());
            cudnn.batchNormForwardInference(BatchNormMode.SPATIAL, x, 0x10, x, 0x20, params, 0x30, 0x40, 0x50, 0x60, 1e-3);
            assertTrue(log().contains("bnInfer mode=1 eps=0.001 mean=0x50 var=0x60"), log());
            cudnn.batchNormBackward(BatchNormMode.SPATIAL, 1, 0, 1, 1, x, 0x10, x, 0x20, x, 0x30, params, 0x40, 0x50,
                    0x60, 1e-5, 0x70, 0x80);
            assertTrue(log().contains("bnBwd mode=1 1 0 1 1 eps=1e-05 ds=0x50 db=0x60 siv=0x80"), log());
            try (Pooling pool = Pooling.of(PoolingShape.max(2, 2, 0))) {
                cudnn.poolingForward(pool, 1, x, 0x10, 0, x, 0x20);
                cudnn.poolingBackward(pool, 1, x, 0x20, x, 0x30, x, 0x10, 0, x, 0x40);
                assertTrue(log().contains("poolFwd alpha=1 beta=0 x=0x10 y=0x20"), log());
                assertTrue(log().contains("poolBwd alpha=1 beta=0 y=0x20 dy=0x30 x=0x10 dx=0x40"), log());
            }
        }
        assertTrue(log().contains("destroy "), "close destroys the handle");
    }
}
