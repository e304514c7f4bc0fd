package dev.activa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.cpu.CpuBackend;
import dev.activa.data.DataFiles;
import dev.activa.report.RunLog;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --threads N}: the CPU backend's threads, recorded in the run log; a bad count is a usage error. */
class ThreadsOptionTest {

    @Test
    void theRunLogRecordsTheThreadsTheLoopsWereCutFor(@TempDir Path dir) throws Exception {
        DataFiles.writeFashionMnist(dir, "train", 32, 28, 28, 1);
        DataFiles.writeFashionMnist(dir, "t10k", 16, 28, 28, 2);
        for (String threads : new String[] {"3", null}) {
            Path out = dir.resolve("runs-" + threads);
            var args = new java.util.ArrayList<>(java.util.List.of("train", "--data", dir.toString(), "--epochs", "1",
                    "--width", "4", "--batch", "16", "--quiet", "--out", out.toString()));
            if (threads != null) args.addAll(java.util.List.of("--threads", threads));
            var r = ActivationsCommandTest.run(args.toArray(String[]::new));
            assertEquals(0, r.status(), r.err());
            var config = RunLog.read(out.resolve("relu_fashion-mnist.json")).config();
            int expected = threads == null ? new CpuBackend().threads() : Integer.parseInt(threads);
            assertEquals(expected, ((Number) config.get("cpuThreads")).intValue(), config.toString());
        }
    }

    @Test
    void aCountThatIsNotAPositiveNumberIsAUsageError() {
        for (String bad : new String[] {"0", "-2", "many", "1.5", "5000"}) {
            for (String[] command : new String[][] {
                    {"train", "--epochs", "1", "--threads", bad},
                    {"demo", "--threads", bad},
                    {"eval", "--checkpoint", "nowhere.safetensors", "--threads", bad}}) {
                var r = ActivationsCommandTest.run(command);
                String what = String.join(" ", command);
                assertEquals(2, r.status(), what + ": " + r.err());
                assertTrue(r.err().contains("--threads must be a whole number from 1 to 4096")
                        && r.err().contains("got '" + bad + "'"), what + ": " + r.err());
            }
        }
    }
}
