package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Activations written as expressions: the parser's precedence, exact derivatives, and clear errors. */
class ExpressionTest {

    @Test
    void precedenceAndAssociativityAreTheUsualOnes() {
        assertEquals(7, Expression.of("1+2*3").applyAsDouble(0));
        assertEquals(-4, Expression.of("-x^2").applyAsDouble(2), "unary minus binds looser than ^");
        assertEquals(512, Expression.of("2^3^2").applyAsDouble(0), "^ is right-associative");
        assertEquals(0.5, Expression.of("2^-1").applyAsDouble(0));
        assertEquals(2.5, Expression.of("10/2/2").applyAsDouble(0), "/ is left-associative");
        assertEquals(3e-3, Expression.of("3e-3").applyAsDouble(0));
        assertEquals(Math.PI * Math.E, Expression.of("pi*e").applyAsDouble(0), 1e-15);
        assertEquals(1.5, Expression.of("max(x, 0) + min(x, 1)").applyAsDouble(0.75));
    }

    /** The derivative from the tree against a central difference, over x in [−4, 4]. */
    @ParameterizedTest
    @ValueSource(strings = {"0.5*x*(1+tanh(0.7978845608*(x+0.044715*x^3)))", "x*sigmoid(1.702*x)", "x*tanh(softplus(x))",
            "log1p(exp(x)) - log(2)", "x/(1+abs(x))", "sin(x)*cos(2*x) + atan(x)", "sqrt(x*x+1) - 1", "expm1(x)/(1+x^2)",
            "sinh(x)/cosh(x)", "(x+5)^(x/10+1)", "max(x, 0.1*x)"})
    void derivativesMatchFiniteDifferences(String formula) {
        Activation act = Expression.define("f=" + formula);
        for (double x = -4; x <= 4; x += 0.37) {
            double h = 1e-6, numeric = (act.value(x + h, null) - act.value(x - h, null)) / (2 * h);
            double analytic = act.derivative(x, null);
            assertEquals(numeric, analytic, 1e-6 * Math.max(1, Math.abs(numeric)), formula + " at " + x);
        }
    }

    @Test
    void aKinkTakesTheSecondArgumentsSlopeAsReluDoes() {
        Activation relu = Expression.define("r=max(x, 0)");
        assertEquals(0, relu.derivative(0, null));
        assertEquals(1, relu.derivative(1e-9, null));
        assertEquals(1, Expression.define("a=abs(x)").derivative(0, null));
    }

    @Test
    void mistakesSayWhatAndWhere() {
        assertEquals("formula '2*y': unknown name 'y' (the variable is x; functions: exp, expm1, log, log1p, sqrt, abs, "
                + "sin, cos, tanh, sinh, cosh, atan, sigmoid, softplus, min, max) at character 3",
                assertThrows(IllegalArgumentException.class, () -> Expression.of("2*y")).getMessage());
        assertEquals("formula 'tanh(x': ')' expected at character 7",
                assertThrows(IllegalArgumentException.class, () -> Expression.of("tanh(x")).getMessage());
        assertEquals("formula 'x+': the formula ends where a number, x or a function was expected at character 3",
                assertThrows(IllegalArgumentException.class, () -> Expression.of("x+")).getMessage());
        assertEquals("formula 'max(x)': ',' expected: max takes two arguments at character 6",
                assertThrows(IllegalArgumentException.class, () -> Expression.of("max(x)")).getMessage());
        assertEquals("formula 'x)': unexpected ')' at character 2",
                assertThrows(IllegalArgumentException.class, () -> Expression.of("x)")).getMessage());
        assertEquals("formula '1..2*x': malformed number '1..2' at character 1",
                assertThrows(IllegalArgumentException.class, () -> Expression.of("1..2*x")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Expression.define("tanh(x)")).getMessage()
                .contains("write NAME=FORMULA"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Expression.define("relu=max(x,0)")).getMessage()
                .contains("is the engine's own relu"));
    }

    /** A formula can come from a file (a checkpoint's metadata): its size and depth are bounded, not a stack overflow. */
    @Test
    void formulasAreBoundedInLengthAndNesting() {
        String deep = "(".repeat(65) + "x" + ")".repeat(65);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Expression.of(deep)).getMessage()
                .contains("more than 64 levels of nesting"));
        assertEquals(1, Expression.of("(".repeat(60) + "x" + ")".repeat(60)).applyAsDouble(1));
        String longSum = "x" + "+x".repeat(499);
        assertEquals(500, Expression.of(longSum).applyAsDouble(1));
        assertEquals("formula of 1001 characters: at most 1000",
                assertThrows(IllegalArgumentException.class, () -> Expression.of(longSum + "+1")).getMessage());
    }

    @Test
    void aDefinitionKeepsItsTextToBeRebuilt() {
        var act = (Defined) Expression.define(" gelu = 0.5*x*(1+tanh(0.79788456*(x+0.044715*x^3))) ");
        assertEquals("gelu", act.name());
        assertEquals("gelu=0.5*x*(1+tanh(0.79788456*(x+0.044715*x^3)))", act.source());
        var again = Expression.define(act.source());
        for (double x = -3; x <= 3; x += 0.5) assertEquals(act.value(x, null), again.value(x, null));
    }
}
