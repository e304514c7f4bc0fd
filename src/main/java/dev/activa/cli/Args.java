package dev.activa.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed {@code --name value} options and {@code --flag} switches of one verb. Unknown options,
 * missing values and malformed numbers are usage errors naming the option.
 */
public final class Args {
    private final String verb;
    private final Map<String, String> values = new LinkedHashMap<>();

    private Args(String verb) {
        this.verb = verb;
    }

    /** {@code options} take a value; {@code flags} do not. */
    public static Args parse(String verb, List<String> argv, Set<String> options, Set<String> flags) {
        Args a = new Args(verb);
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (!arg.startsWith("--"))
                throw new UsageException(verb + ": unexpected argument '" + arg + "'");
            String name = arg.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name) && inline == null) {
                a.values.put(name, "true");
            } else if (options.contains(name)) {
                String v = inline;
                if (v == null) {
                    if (i + 1 >= argv.size()) throw new UsageException(verb + ": --" + name + " needs a value");
                    v = argv.get(++i);
                }
                a.values.put(name, v);
            } else {
                throw new UsageException(verb + ": unknown option --" + name);
            }
        }
        return a;
    }

    public boolean has(String name) { return values.containsKey(name); }

    public boolean flag(String name) { return values.containsKey(name); }

    public String string(String name, String fallback) { return values.getOrDefault(name, fallback); }

    public String required(String name) {
        String v = values.get(name);
        if (v == null) throw new UsageException(verb + ": --" + name + " is required");
        return v;
    }

    public int integer(String name, int fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(verb + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    public long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException(verb + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    public double number(String name, double fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException(verb + ": --" + name + " must be a number, got '" + v + "'");
        }
    }

    /** A comma-separated list, e.g. {@code --activations relu,nami}. */
    public List<String> list(String name, List<String> fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        return List.of(v.split(",")).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
