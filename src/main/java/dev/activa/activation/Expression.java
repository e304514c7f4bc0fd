package dev.activa.activation;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * An activation written as an expression in x, as the command line's {@code --define NAME=FORMULA}
 * gives it: numbers, x, + − * / ^, parentheses, and the functions exp, expm1, log, log1p, sqrt,
 * abs, sin, cos, tanh, sinh, cosh, atan, sigmoid, softplus, min(a, b) and max(a, b). Its
 * derivative comes from the same tree by forward-mode differentiation (each node gives its value
 * and its derivative in x), so it is exact to rounding, not a finite difference.
 *
 * <p>At a kink the derivative is one side's: abs' is 1 at 0, and min and max take their second
 * argument's on a tie, so max(x, 0) has slope 0 at 0, as the engine's relu.
 */
public final class Expression {
    private Expression() {}

    /** A node of the tree: its value and derivative at x, into {@code out[0]} and {@code out[1]}. */
    private sealed interface Node permits Constant, X, Unary, Binary {}

    private record Constant(double value) implements Node {}

    private record X() implements Node {}

    private record Unary(String function, Node argument) implements Node {}

    private record Binary(char operator, Node left, Node right) implements Node {}

    /** {@code name=formula} as an activation; a mistake is an IllegalArgumentException saying where. */
    public static Activation define(String definition) {
        int eq = definition.indexOf('=');
        if (eq < 0)
            throw new IllegalArgumentException("--define '" + definition + "': write NAME=FORMULA, e.g. "
                    + "gelu=0.5*x*(1+tanh(0.7978845608*(x+0.044715*x^3)))");
        String name = definition.substring(0, eq).strip(), text = definition.substring(eq + 1);
        Node tree = parse(text);
        return new Defined(name, List.of(), (x, p) -> value(tree, x), (x, p) -> derivative(tree, x), null,
                name + "=" + text.strip());
    }

    /** The formula's value at x (for tests and plots). */
    public static DoubleUnaryOperator of(String formula) {
        Node tree = parse(formula);
        return x -> value(tree, x);
    }

    static double value(Node n, double x) {
        double[] out = new double[2];
        eval(n, x, out);
        return out[0];
    }

    static double derivative(Node n, double x) {
        double[] out = new double[2];
        eval(n, x, out);
        return out[1];
    }

    private static void eval(Node node, double x, double[] out) {
        switch (node) {
            case Constant c -> {
                out[0] = c.value();
                out[1] = 0;
            }
            case X ignored -> {
                out[0] = x;
                out[1] = 1;
            }
            case Unary u -> {
                eval(u.argument(), x, out);
                double a = out[0], da = out[1];
                double[] fd = unary(u.function(), a);
                out[0] = fd[0];
                out[1] = fd[1] * da;
            }
            case Binary b -> {
                eval(b.left(), x, out);
                double l = out[0], dl = out[1];
                eval(b.right(), x, out);
                double r = out[0], dr = out[1];
                switch (b.operator()) {
                    case '+' -> { out[0] = l + r; out[1] = dl + dr; }
                    case '-' -> { out[0] = l - r; out[1] = dl - dr; }
                    case '*' -> { out[0] = l * r; out[1] = dl * r + l * dr; }
                    case '/' -> { out[0] = l / r; out[1] = (dl * r - l * dr) / (r * r); }
                    case '^' -> power(l, dl, r, dr, b.right() instanceof Constant, out);
                    case '<' -> { boolean left = l < r; out[0] = left ? l : r; out[1] = left ? dl : dr; } // min
                    case '>' -> { boolean left = l > r; out[0] = left ? l : r; out[1] = left ? dl : dr; } // max
                    default -> throw new IllegalStateException("operator " + b.operator());
                }
            }
        }
    }

    /** l^r and its derivative; a constant exponent needs no log of the base (so negative bases work). */
    private static void power(double l, double dl, double r, double dr, boolean constantExponent, double[] out) {
        double v = Math.pow(l, r);
        out[0] = v;
        if (constantExponent) out[1] = r == 0 ? 0 : r * Math.pow(l, r - 1) * dl;
        else out[1] = v * (dr * Math.log(l) + r * dl / l);
    }

    /** f(a) and f'(a). */
    private static double[] unary(String f, double a) {
        return switch (f) {
            case "neg" -> new double[] {-a, -1};
            case "exp" -> { double e = Math.exp(a); yield new double[] {e, e}; }
            case "expm1" -> new double[] {Math.expm1(a), Math.exp(a)};
            case "log" -> new double[] {Math.log(a), 1 / a};
            case "log1p" -> new double[] {Math.log1p(a), 1 / (1 + a)};
            case "sqrt" -> { double s = Math.sqrt(a); yield new double[] {s, 0.5 / s}; }
            case "abs" -> new double[] {Math.abs(a), a < 0 ? -1 : 1};
            case "sin" -> new double[] {Math.sin(a), Math.cos(a)};
            case "cos" -> new double[] {Math.cos(a), -Math.sin(a)};
            case "tanh" -> { double t = Math.tanh(a); yield new double[] {t, Activation.sech2(a)}; }
            case "sinh" -> new double[] {Math.sinh(a), Math.cosh(a)};
            case "cosh" -> new double[] {Math.cosh(a), Math.sinh(a)};
            case "atan" -> new double[] {Math.atan(a), 1 / (1 + a * a)};
            case "sigmoid" -> { double s = Swish.sigmoid(a); yield new double[] {s, s * (1 - s)}; }
            case "softplus" -> new double[] {a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a)),
                    Swish.sigmoid(a)};
            default -> throw new IllegalStateException("function " + f);
        };
    }

    static final List<String> FUNCTIONS = List.of("exp", "expm1", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh",
            "sinh", "cosh", "atan", "sigmoid", "softplus", "min", "max");

    // ---------------------------------------------------------------- parsing

    /**
     * Recursive descent: sum := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
     * unary := ('-'|'+') unary | power; power := atom ('^' unary)?; atom := number | x | pi | e |
     * function '(' sum [',' sum] ')' | '(' sum ')'.
     */
    private static Node parse(String text) {
        // bounds for a formula read from a file (a checkpoint): its trees are walked by recursion
        if (text.length() > MAX_LENGTH)
            throw new IllegalArgumentException("formula of " + text.length() + " characters: at most " + MAX_LENGTH);
        var p = new Parser(text);
        Node n = p.sum();
        p.skipSpaces();
        if (p.at < text.length()) throw p.error("unexpected '" + text.charAt(p.at) + "'");
        return n;
    }

    static final int MAX_LENGTH = 1000, MAX_NESTING = 64;

    private static final class Parser {
        final String text;
        int at, nesting;

        Parser(String text) {
            this.text = text;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("formula '" + text + "': " + what + " at character " + (at + 1));
        }

        void skipSpaces() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
        }

        boolean take(char c) {
            skipSpaces();
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        Node sum() { return leftAssociative('+', '-', this::term); }

        Node term() { return leftAssociative('*', '/', this::unary); }

        /** operand ((one | other) operand)*, grouped from the left. */
        private Node leftAssociative(char one, char other, java.util.function.Supplier<Node> operand) {
            Node n = operand.get();
            while (true) {
                if (take(one)) n = new Binary(one, n, operand.get());
                else if (take(other)) n = new Binary(other, n, operand.get());
                else return n;
            }
        }

        Node unary() {
            if (++nesting > MAX_NESTING) throw error("more than " + MAX_NESTING + " levels of nesting");
            try {
                return signed();
            } finally {
                nesting--;
            }
        }

        private Node signed() {
            if (take('-')) return new Unary("neg", unary());
            if (take('+')) return unary();
            return power();
        }

        Node power() {
            Node base = atom();
            // right-associative, and tighter than a minus before it: -x^2 is -(x^2)
            return take('^') ? new Binary('^', base, unary()) : base;
        }

        Node atom() {
            skipSpaces();
            if (at >= text.length()) throw error("the formula ends where a number, x or a function was expected");
            char c = text.charAt(at);
            if (take('(')) {
                Node n = sum();
                if (!take(')')) throw error("')' expected");
                return n;
            }
            if (Character.isDigit(c) || c == '.') return number();
            if (Character.isLetter(c)) {
                int start = at;
                while (at < text.length() && Character.isLetterOrDigit(text.charAt(at))) at++;
                String word = text.substring(start, at).toLowerCase(Locale.ROOT);
                if (word.equals("x")) return new X();
                if (word.equals("pi")) return new Constant(Math.PI);
                if (word.equals("e")) return new Constant(Math.E);
                if (!FUNCTIONS.contains(word)) {
                    at = start;
                    throw error("unknown name '" + word + "' (the variable is x; functions: "
                            + String.join(", ", FUNCTIONS) + ")");
                }
                if (!take('(')) throw error("'(' expected after " + word);
                Node a = sum();
                if (word.equals("min") || word.equals("max")) {
                    if (!take(',')) throw error("',' expected: " + word + " takes two arguments");
                    Node b = sum();
                    if (!take(')')) throw error("')' expected");
                    return new Binary(word.equals("min") ? '<' : '>', a, b);
                }
                if (!take(')')) throw error("')' expected");
                return new Unary(word, a);
            }
            throw error("unexpected '" + c + "'");
        }

        Node number() {
            int start = at;
            while (at < text.length() && (Character.isDigit(text.charAt(at)) || text.charAt(at) == '.')) at++;
            if (at < text.length() && (text.charAt(at) == 'e' || text.charAt(at) == 'E')) {
                int mark = at++;
                if (at < text.length() && (text.charAt(at) == '+' || text.charAt(at) == '-')) at++;
                if (at < text.length() && Character.isDigit(text.charAt(at))) {
                    while (at < text.length() && Character.isDigit(text.charAt(at))) at++;
                } else {
                    at = mark; // 'e' not an exponent: leave it for the next token
                }
            }
            String digits = text.substring(start, at);
            try {
                return new Constant(Double.parseDouble(digits));
            } catch (NumberFormatException e) {
                at = start;
                throw error("malformed number '" + digits + "'");
            }
        }
    }
}
