package dev.activa.data;

import java.util.Locale;

/** Which half of a dataset to load. */
public enum Split {
    TRAIN,
    TEST;

    /** Lower-case name, as used in dataset names and messages. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
