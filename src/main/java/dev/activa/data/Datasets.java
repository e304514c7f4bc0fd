package dev.activa.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Opens a dataset by its CLI name. */
public final class Datasets {

    public static final List<String> NAMES = List.of("fashion-mnist", "cifar10", "cifar100");

    private Datasets() {}

    /**
     * Loads {@code split} of the named set from {@code dirOrNull}, or from the set's default
     * folder when it is null. Names are case-insensitive and ignore '-' and '_' ("CIFAR-10" works).
     */
    public static Dataset open(String name, Path dirOrNull, Split split) {
        String canonical = canonical(name);
        Path dir = dirOrNull != null ? dirOrNull : defaultDir(canonical);
        return switch (canonical) {
            case "fashion-mnist" -> FashionMnist.load(dir, split);
            case "cifar10" -> Cifar.load10(dir, split);
            case "cifar100" -> Cifar.load100(dir, split);
            default -> throw unknown(name);
        };
    }

    /** Where {@link #open} looks when no folder is given. */
    public static Path defaultDir(String name) {
        return switch (canonical(name)) {
            case "fashion-mnist" -> FashionMnist.DEFAULT_DIR;
            case "cifar10" -> Cifar.DEFAULT_DIR_10;
            case "cifar100" -> Cifar.DEFAULT_DIR_100;
            default -> throw unknown(name);
        };
    }

    /** The set's name as {@link #NAMES} spells it ("CIFAR-10" gives "cifar10"); a clear error for an unknown one. */
    public static String canonicalName(String name) {
        String canonical = canonical(name);
        if (!NAMES.contains(canonical)) throw unknown(name);
        return canonical;
    }

    private static String canonical(String name) {
        String key = name == null ? "" : name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return key.equals("fashionmnist") ? "fashion-mnist" : key;
    }

    private static DataException unknown(String name) {
        return new DataException("Unknown dataset '" + name + "'. Valid names: " + String.join(", ", NAMES) + ".");
    }
}
