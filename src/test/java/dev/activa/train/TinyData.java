package dev.activa.train;

import dev.activa.data.Dataset;
import java.util.List;
import java.util.SplittableRandom;

/** A small learnable dataset: the class decides which quadrant of an 8×8 image is bright. */
final class TinyData {
    private TinyData() {}

    static Dataset make(int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] pixels = new byte[count * 64];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int label = i % 4;
            labels[i] = label;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) {
                    int quadrant = (y / 4) * 2 + x / 4;
                    int v = (quadrant == label ? 160 : 40) + rng.nextInt(60);
                    pixels[i * 64 + y * 8 + x] = (byte) v;
                }
        }
        return new Dataset("tiny", pixels, labels, count, 1, 8, 8, 4, List.of("a", "b", "c", "d"));
    }
}
