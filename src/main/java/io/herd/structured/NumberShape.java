package io.herd.structured;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * A JSON number Herd generates: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?} (no exponent; no fraction for integers), at most
 * {@link #MAX_DIGITS} digits in all so that every value is exact in a double and the model cannot stream digits
 * forever, within optional inclusive or exclusive bounds. Decides whether a prefix can still be completed in range.
 */
final class NumberShape {
    static final int MAX_DIGITS = 15;

    final boolean integer;
    private final BigDecimal min, max;
    private final boolean minExclusive, maxExclusive;

    NumberShape(boolean integer, BigDecimal min, boolean minExclusive, BigDecimal max, boolean maxExclusive) {
        this.integer = integer;
        this.min = min;
        this.max = max;
        this.minExclusive = minExclusive;
        this.maxExclusive = maxExclusive;
    }

    /** Whether {@code text} is a prefix of the number syntax. */
    boolean syntaxPrefix(String text) {
        int i = 0, n = text.length();
        if (i < n && text.charAt(i) == '-') i++;
        if (i == n) return true;
        int intStart = i;
        if (text.charAt(i) == '0') i++;
        else while (i < n && Character.isDigit(text.charAt(i))) i++;
        if (i == intStart) return false;
        int digits = i - intStart;
        if (i == n) return digits <= MAX_DIGITS;
        if (integer || text.charAt(i) != '.') return false;
        i++;
        int fracStart = i;
        while (i < n && Character.isDigit(text.charAt(i))) i++;
        return i == n && digits + (i - fracStart) <= MAX_DIGITS && digits < MAX_DIGITS;
    }

    boolean complete(String text) {
        if (text.isEmpty() || !syntaxPrefix(text)) return false;
        char last = text.charAt(text.length() - 1);
        return Character.isDigit(last) && inBounds(new BigDecimal(text));
    }

    /** Whether some completion of the syntax prefix {@code text} is a number in bounds. */
    boolean feasible(String text) {
        if (text.isEmpty()) return feasible("-") || feasibleDigits("");
        if (text.equals("-")) return feasibleDigits("-");
        boolean negative = text.charAt(0) == '-';
        String magnitude = negative ? text.substring(1) : text;
        int dot = magnitude.indexOf('.');
        String intPart = dot < 0 ? magnitude : magnitude.substring(0, dot);
        BigDecimal v = new BigDecimal(intPart);
        int k = intPart.length();
        if (dot < 0) {
            int maxExtra = intPart.equals("0") ? 0 : MAX_DIGITS - k;
            for (int j = 0; j <= maxExtra; j++) {
                BigDecimal lo = v.movePointRight(j);
                BigDecimal hiExclusive = v.add(BigDecimal.ONE).movePointRight(j);
                int fraction = integer ? 0 : MAX_DIGITS - k - j;
                if (gridHits(negative, lo, hiExclusive, integer ? 0 : fraction)) return true;
            }
            return false;
        }
        String frac = magnitude.substring(dot + 1);
        int room = MAX_DIGITS - k - frac.length();
        if (frac.isEmpty() && room < 1) return false;
        BigDecimal x = new BigDecimal(intPart + "." + (frac.isEmpty() ? "0" : frac));
        BigDecimal end = x.add(BigDecimal.ONE.movePointLeft(frac.length()));
        return gridHits(negative, x, end, frac.length() + room);
    }

    private boolean feasibleDigits(String sign) {
        for (char d = '0'; d <= '9'; d++) if (feasible(sign + d)) return true;
        return false;
    }

    /**
     * Whether a grid point {@code p = lo + i·10^-scale < hiExclusive} (a magnitude, negated when {@code negative}) is
     * in bounds.
     */
    private boolean gridHits(boolean negative, BigDecimal lo, BigDecimal hiExclusive, int scale) {
        BigDecimal step = BigDecimal.ONE.movePointLeft(scale);
        BigDecimal last = hiExclusive.subtract(step);
        if (last.compareTo(lo) < 0) last = lo;
        // Bounds on the magnitude.
        BigDecimal low, high;
        boolean lowExclusive, highExclusive;
        if (!negative) {
            low = min; lowExclusive = minExclusive; high = max; highExclusive = maxExclusive;
        } else {
            low = max == null ? null : max.negate(); lowExclusive = maxExclusive;
            high = min == null ? null : min.negate(); highExclusive = minExclusive;
        }
        BigDecimal p = lo;
        if (low != null && low.compareTo(p) >= 0) {
            BigDecimal c = low.setScale(scale, RoundingMode.CEILING);
            if (lowExclusive && c.compareTo(low) == 0) c = c.add(step);
            if (c.compareTo(p) > 0) p = c;
        }
        if (p.compareTo(last) > 0) return false;
        if (high == null) return true;
        int cmp = p.compareTo(high);
        return highExclusive ? cmp < 0 : cmp <= 0;
    }

    private boolean inBounds(BigDecimal v) {
        if (min != null) {
            int c = v.compareTo(min);
            if (minExclusive ? c <= 0 : c < 0) return false;
        }
        if (max != null) {
            int c = v.compareTo(max);
            if (maxExclusive ? c >= 0 : c > 0) return false;
        }
        return true;
    }
}
