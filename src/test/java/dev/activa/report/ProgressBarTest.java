package dev.activa.report;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L); // any origin: only differences count
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private void advanceMillis(long ms) {
        nanos.addAndGet(ms * 1_000_000L);
    }

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rendersTheLine() {
        var bar = new ProgressBar(out, "batches", 469, nanos::get, true);
        advanceMillis(49_200);
        bar.update(312, 312 * 128, 0.43121);
        // 312/469 = 66.5%: 19 of 30 cells; 39936 images in 49.2 s = 812/s; ETA 49.2 * 157 / 312 = 24.8 s.
        String expected = "[===================>          ] 312/469 batches  66%  ETA 0:25  812 img/s  loss 0.4312";
        assertEquals("\r" + expected, output());
    }

    @Test
    void redrawsAtMostFiveTimesASecondAndEndsWithANewline() {
        var bar = new ProgressBar(out, "batches", 100, nanos::get, true);
        for (int i = 1; i <= 100; i++) {
            advanceMillis(50); // 20 updates a second
            bar.update(i, i * 64L, 1.0 / i);
        }
        String text = output();
        long redraws = text.chars().filter(c -> c == '\r').count();
        // 5 s of work at one redraw per 200 ms, plus the first and the final draw.
        assertTrue(redraws >= 25 && redraws <= 27, "redraws: " + redraws);
        assertTrue(text.endsWith("[==============================] 100/100 batches 100%  took 0:05  1280 img/s  loss 0.0100\n"),
                text.substring(text.lastIndexOf('\r')));
        assertEquals(1, text.chars().filter(c -> c == '\n').count(), "one newline, at the end");
        bar.finish();
        bar.close();
        assertEquals(text, output(), "finishing again prints nothing");
    }

    @Test
    void shorterLinesWipeTheRestOfTheLongerOne() {
        var bar = new ProgressBar(out, "batches", 10, nanos::get, true);
        advanceMillis(1000);
        bar.update(1, 100, 123456.0);
        advanceMillis(1000);
        bar.update(2, 200);
        String[] draws = output().split("\r");
        assertEquals(draws[1].length(), draws[2].length(), "padded to the previous length");
        assertTrue(draws[2].endsWith("     "));
    }

    @Test
    void finishShowsTheLatestStateEvenIfThrottled() {
        var bar = new ProgressBar(out, "steps", 1000, nanos::get, true);
        advanceMillis(10);
        bar.update(1, 1);
        advanceMillis(10);
        bar.update(500, 500); // throttled: only 10 ms since the first draw
        assertFalse(output().contains("500/1000"));
        bar.finish(); // e.g. stopped early
        assertTrue(output().endsWith("500/1000 steps  50%  ETA 0:00  25000 img/s\n"), output());
    }

    @Test
    void plainLinesEveryTenPercentWhenNotATerminal() {
        var bar = new ProgressBar(out, "batches", 200, nanos::get, false);
        for (int i = 1; i <= 200; i++) {
            advanceMillis(100);
            bar.update(i, i * 32L, 0.5);
        }
        String text = output();
        assertFalse(text.contains("\r"));
        var lines = text.lines().toList();
        assertEquals(10, lines.size(), text);
        assertTrue(lines.get(0).contains(" 20/200 batches  10%"), lines.get(0));
        assertTrue(lines.get(9).contains("200/200 batches 100%  took 0:20"), lines.get(9));
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void etaBeforeAnythingIsDoneAndLongDurations() {
        var bar = new ProgressBar(out, "epochs", 5, nanos::get, true);
        bar.update(0, 0);
        assertTrue(output().contains("ETA --:--  -- img/s"), output());
        assertEquals("1:01:01", ProgressBar.duration(3661));
        assertEquals("0:59", ProgressBar.duration(59.4));
        assertThrows(IllegalArgumentException.class, () -> new ProgressBar(out, "x", 0, nanos::get, true));
    }
}
