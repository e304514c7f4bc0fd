package dev.activa.report;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;

/**
 * Accumulates classification results over the batches of an epoch and summarises them: mean
 * loss, top-1 and top-k accuracy, the confusion matrix and precision/recall/F1 per class and
 * macro-averaged.
 *
 * <p>Conventions, chosen to match scikit-learn with {@code zero_division=0}:
 * <ul>
 *   <li>A class never predicted has precision 0; a class never present has recall 0; F1 is
 *       {@code 2TP / (2TP + FP + FN)}, 0 when that is 0/0.
 *   <li>Macro averages are plain means over the classes that occur as a label or a prediction
 *       (scikit-learn's default label set); classes absent from both are left out rather than
 *       counted as zeros. Macro F1 is the mean of per-class F1, not F1 of macro P and R.
 *   <li>Argmax ties go to the lowest class index; top-k ranks the same way, so a label tied
 *       with higher-indexed classes outranks them. NaN logits rank below every number.
 * </ul>
 * Not thread-safe: one instance per evaluation loop.
 */
public final class ClassificationMetrics {
    private final int classes;
    private final int topK;
    private final long[][] confusion; // [actual][predicted]
    private long samples;
    private long top1Correct;
    private long topKCorrect;
    private double lossSum;
    private long lossRows;

    public ClassificationMetrics(int classes) {
        if (classes < 1) throw new IllegalArgumentException("need at least one class, got " + classes);
        this.classes = classes;
        this.topK = Math.min(5, classes);
        this.confusion = new long[classes][classes];
    }

    /** Adds a batch: {@code logits} is row-major {@code rows × classes}, {@code labels} the true classes. */
    public void add(float[] logits, int[] labels, int rows, int classes) {
        if (classes != this.classes) {
            throw new IllegalArgumentException("batch has " + classes + " classes, metrics were made for " + this.classes);
        }
        if (rows < 0 || logits.length < (long) rows * classes || labels.length < rows) {
            throw new IllegalArgumentException("batch of " + rows + " rows needs " + (long) rows * classes
                    + " logits and " + rows + " labels, got " + logits.length + " and " + labels.length);
        }
        for (int r = 0; r < rows; r++) {
            int label = labels[r];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("label " + label + " at row " + r + " outside [0, " + classes + ")");
            }
            int base = r * classes;
            int predicted = 0;
            int rank = 0; // how many classes outrank the true one
            float labelLogit = logits[base + label];
            for (int c = 0; c < classes; c++) {
                float v = logits[base + c];
                if (outranks(v, c, logits[base + predicted], predicted)) predicted = c;
                if (c != label && outranks(v, c, labelLogit, label)) rank++;
            }
            confusion[label][predicted]++;
            if (predicted == label) top1Correct++;
            if (rank < topK) topKCorrect++;
        }
        samples += rows;
    }

    /** Adds the loss of a batch as a sum over its {@code rows} samples (mean loss × rows). */
    public void addLoss(double lossSum, int rows) {
        this.lossSum += lossSum;
        this.lossRows += rows;
    }

    /**
     * Sum over rows of softmax cross-entropy, in double with log-sum-exp, for callers that only
     * have logits; pass the result to {@link #addLoss}.
     */
    public static double crossEntropySum(float[] logits, int[] labels, int rows, int classes) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[base + c]);
            double exp = 0;
            for (int c = 0; c < classes; c++) exp += Math.exp(logits[base + c] - max);
            sum += max + Math.log(exp) - logits[base + labels[r]];
        }
        return sum;
    }

    /** Whether (v, c) ranks above (w, d): larger value first, NaN last, lower index on ties. */
    private static boolean outranks(float v, int c, float w, int d) {
        if (Float.isNaN(v)) return Float.isNaN(w) && c < d;
        if (Float.isNaN(w)) return true;
        return v > w || (v == w && c < d);
    }

    public long samples() {
        return samples;
    }

    public Summary summary() {
        var perClass = new ArrayList<ClassStats>(classes);
        double sumP = 0, sumR = 0, sumF = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            long tp = confusion[c][c], support = 0, predicted = 0;
            for (int k = 0; k < classes; k++) {
                support += confusion[c][k];
                predicted += confusion[k][c];
            }
            long fp = predicted - tp, fn = support - tp;
            double precision = predicted == 0 ? 0 : (double) tp / predicted;
            double recall = support == 0 ? 0 : (double) tp / support;
            double f1 = 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
            perClass.add(new ClassStats(c, precision, recall, f1, support));
            if (support > 0 || predicted > 0) {
                present++;
                sumP += precision;
                sumR += recall;
                sumF += f1;
            }
        }
        double n = samples;
        return new Summary(
                lossRows == 0 ? Double.NaN : lossSum / lossRows,
                samples == 0 ? Double.NaN : top1Correct / n,
                samples == 0 ? Double.NaN : topKCorrect / n,
                topK,
                samples,
                present == 0 ? Double.NaN : sumP / present,
                present == 0 ? Double.NaN : sumR / present,
                present == 0 ? Double.NaN : sumF / present,
                perClass,
                confusion);
    }

    /**
     * Precision, recall and F1 of one class, and its support (how many samples carry that label).
     * Logged as {@code {"class", "precision", "recall", "f1", "support"}}.
     */
    public record ClassStats(@JsonProperty("class") int classIndex, double precision, double recall, double f1, long support) {}

    /**
     * A snapshot of the metrics. Values are NaN when nothing was added (no samples, no loss).
     * {@code confusion[actual][predicted]}; the matrix is copied in and out so the record stays immutable.
     */
    public record Summary(double loss, double top1, double topK, int k, long samples,
                          double macroPrecision, double macroRecall, double macroF1,
                          List<ClassStats> perClass, long[][] confusion) {
        public Summary {
            perClass = List.copyOf(perClass);
            confusion = deepCopy(confusion);
        }

        /** Top-5 accuracy; with fewer than five classes this is top-{@code k} (= 1.0 when k = classes). */
        public double top5() {
            return topK;
        }

        @Override
        public long[][] confusion() {
            return deepCopy(confusion);
        }

        public long confusion(int actual, int predicted) {
            return confusion[actual][predicted];
        }

        private static long[][] deepCopy(long[][] m) {
            long[][] out = new long[m.length][];
            for (int i = 0; i < m.length; i++) out[i] = m[i].clone();
            return out;
        }
    }
}
