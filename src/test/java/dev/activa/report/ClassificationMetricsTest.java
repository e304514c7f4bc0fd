package dev.activa.report;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ClassificationMetricsTest {
    private static final double EPS = 1e-12;

    /** One-hot-ish logits that predict the given classes. */
    private static float[] predicting(int classes, int... predicted) {
        float[] logits = new float[predicted.length * classes];
        for (int r = 0; r < predicted.length; r++) {
            for (int c = 0; c < classes; c++) logits[r * classes + c] = -c * 0.1f; // distinct, no ties
            logits[r * classes + predicted[r]] = 5;
        }
        return logits;
    }

    @Test
    void handComputedCaseWithAClassNeverPredicted() {
        // labels:      0 0 1 1 2 2
        // predictions: 0 1 1 1 0 1   (class 2 is never predicted)
        int[] labels = {0, 0, 1, 1, 2, 2};
        var m = new ClassificationMetrics(3);
        m.add(predicting(3, 0, 1, 1, 1, 0, 1), labels, 6, 3);
        var s = m.summary();

        assertArrayEquals(new long[][] {{1, 1, 0}, {0, 2, 0}, {1, 1, 0}}, s.confusion());
        assertEquals(0.5, s.top1(), EPS);
        assertEquals(3, s.k());
        assertEquals(1.0, s.top5(), EPS, "with 3 classes top-k is top-3, always right");

        var c0 = s.perClass().get(0);
        assertEquals(0.5, c0.precision(), EPS);
        assertEquals(0.5, c0.recall(), EPS);
        assertEquals(0.5, c0.f1(), EPS);
        assertEquals(2, c0.support());
        var c1 = s.perClass().get(1);
        assertEquals(0.5, c1.precision(), EPS);
        assertEquals(1.0, c1.recall(), EPS);
        assertEquals(2.0 / 3, c1.f1(), EPS);
        var c2 = s.perClass().get(2);
        assertEquals(0, c2.precision(), EPS, "never predicted: precision 0 (zero_division=0)");
        assertEquals(0, c2.recall(), EPS);
        assertEquals(0, c2.f1(), EPS);
        assertEquals(2, c2.support());

        // scikit-learn: precision_recall_fscore_support(y, p, average='macro', zero_division=0)
        assertEquals(1.0 / 3, s.macroPrecision(), EPS);
        assertEquals(0.5, s.macroRecall(), EPS);
        assertEquals(7.0 / 18, s.macroF1(), EPS);
    }

    @Test
    void classesAbsentFromLabelsAndPredictionsAreLeftOutOfMacroAverages() {
        var m = new ClassificationMetrics(4); // class 3 never occurs
        m.add(predicting(4, 0, 1, 2), new int[] {0, 1, 2}, 3, 4);
        var s = m.summary();
        assertEquals(1.0, s.macroPrecision(), EPS);
        assertEquals(1.0, s.macroF1(), EPS);
        assertEquals(0, s.perClass().get(3).support());
    }

    @Test
    void batchesAccumulateLikeOneBigBatch() {
        int[] labels = {0, 0, 1, 1, 2, 2};
        float[] logits = predicting(3, 0, 1, 1, 1, 0, 1);
        var whole = new ClassificationMetrics(3);
        whole.add(logits, labels, 6, 3);
        var split = new ClassificationMetrics(3);
        split.add(java.util.Arrays.copyOfRange(logits, 0, 9), new int[] {0, 0, 1}, 3, 3);
        split.add(java.util.Arrays.copyOfRange(logits, 9, 18), new int[] {1, 2, 2}, 3, 3);
        assertArrayEquals(whole.summary().confusion(), split.summary().confusion());
        assertEquals(whole.summary().macroF1(), split.summary().macroF1(), EPS);
        assertEquals(6, split.samples());
    }

    @Test
    void argmaxTiesGoToTheLowestIndex() {
        var m = new ClassificationMetrics(3);
        m.add(new float[] {1, 2, 2, 7, 7, 7}, new int[] {2, 0}, 2, 3);
        var s = m.summary();
        assertEquals(1, s.confusion(2, 1), "tie between 1 and 2 -> 1");
        assertEquals(1, s.confusion(0, 0), "three-way tie -> 0");
        assertEquals(0.5, s.top1(), EPS);
    }

    @Test
    void topFiveCountsRankOfTheTrueClass() {
        int classes = 10;
        // Logits descending with the class index: class c has rank c.
        float[] row = new float[classes];
        for (int c = 0; c < classes; c++) row[c] = 10 - c;
        int[] labels = {0, 4, 5, 9};
        float[] logits = new float[labels.length * classes];
        for (int r = 0; r < labels.length; r++) System.arraycopy(row, 0, logits, r * classes, classes);
        var m = new ClassificationMetrics(classes);
        m.add(logits, labels, labels.length, classes);
        var s = m.summary();
        assertEquals(5, s.k());
        assertEquals(0.25, s.top1(), EPS);
        assertEquals(0.5, s.top5(), EPS, "ranks 0 and 4 are in the top 5, ranks 5 and 9 are not");
    }

    @Test
    void topFiveTiesFollowTheSameLowestIndexRule() {
        var m = new ClassificationMetrics(7);
        // All seven logits equal: label 4 has four classes ahead (0..3), label 5 has five.
        m.add(new float[14], new int[] {4, 5}, 2, 7);
        assertEquals(0.5, m.summary().top5(), EPS);
    }

    @Test
    void nanLogitsRankLast() {
        var m = new ClassificationMetrics(3);
        m.add(new float[] {Float.NaN, 1, 2, Float.NaN, Float.NaN, Float.NaN}, new int[] {2, 0}, 2, 3);
        var s = m.summary();
        assertEquals(1, s.confusion(2, 2), "NaN does not win the argmax");
        assertEquals(1, s.confusion(0, 0), "all NaN: lowest index");
    }

    @Test
    void lossIsTheMeanOverRows() {
        var m = new ClassificationMetrics(2);
        assertTrue(Double.isNaN(m.summary().loss()));
        m.addLoss(3.0, 2);
        m.addLoss(1.0, 2);
        assertEquals(1.0, m.summary().loss(), EPS);
        assertEquals(2 * Math.log(2), ClassificationMetrics.crossEntropySum(new float[] {0, 0, 3, 3}, new int[] {0, 1}, 2, 2), 1e-9);
        // Large logits must not overflow.
        assertEquals(1000 + Math.log1p(Math.exp(-1000)) - 0, ClassificationMetrics.crossEntropySum(
                new float[] {0, 1000}, new int[] {0}, 1, 2), 1e-9);
    }

    @Test
    void summaryIsASnapshot() {
        var m = new ClassificationMetrics(2);
        m.add(new float[] {1, 0}, new int[] {0}, 1, 2);
        var s = m.summary();
        s.confusion()[0][0] = 99;
        m.add(new float[] {1, 0}, new int[] {0}, 1, 2);
        assertEquals(1, s.confusion(0, 0));
        assertEquals(2, m.summary().confusion(0, 0));
    }

    @Test
    void rejectsInconsistentBatches() {
        var m = new ClassificationMetrics(3);
        assertThrows(IllegalArgumentException.class, () -> m.add(new float[6], new int[2], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> m.add(new float[3], new int[2], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> m.add(new float[3], new int[] {3}, 1, 3));
    }
}
