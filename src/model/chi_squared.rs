//! Critical values of the chi-squared distribution, for the class-balance test.
//!
//! `P(X <= x) = P(ν/2, x/2)` for `ν` degrees of freedom, with `P` the regularised lower
//! incomplete gamma function, computed by its series below `a + 1` and by the continued
//! fraction of its complement above (the classical split, which keeps both convergent and
//! accurate); the quantile is found by bisection.

/// `ln Γ(x)` for `x > 0` (Lanczos, `g = 7`, nine terms: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = COEFFICIENTS[1..]
        .iter()
        .enumerate()
        .fold(COEFFICIENTS[0], |sum, (index, c)| {
            sum + c / (x + index as f64 + 1.0)
        });
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// The regularised lower incomplete gamma function `P(a, x)`, `a > 0`, `x >= 0`.
fn lower_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let scale = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut denominator) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        return (sum * scale).min(1.0);
    }
    // Q(a, x) by the modified Lentz method on its continued fraction.
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut fraction = d;
    for step in 1..10_000 {
        let an = -(step as f64) * (step as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let change = d * c;
        fraction *= change;
        if (change - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (1.0 - scale * fraction).max(0.0)
}

/// The value a chi-squared variable with `degrees` degrees of freedom exceeds with probability
/// `level` (for example 0.001).
pub(crate) fn critical_value(degrees: usize, level: f64) -> f64 {
    let half = degrees.max(1) as f64 / 2.0;
    let target = 1.0 - level;
    let (mut low, mut high) = (0.0, 1.0);
    while lower_gamma(half, high / 2.0) < target {
        high *= 2.0;
    }
    for _ in 0..200 {
        let middle = 0.5 * (low + high);
        if lower_gamma(half, middle / 2.0) < target {
            low = middle;
        } else {
            high = middle;
        }
    }
    0.5 * (low + high)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values: `scipy.stats.chi2.ppf(1 - level, degrees)` from SciPy 1.17.1 (the 0.999
    /// quantiles with 1, 2, 3, 6 and 30 degrees of freedom, and the 0.95 one with 1).
    #[test]
    fn critical_values_match_published_tables() {
        for (degrees, level, expected) in [
            (1, 0.001, 10.827_566_170_662_733),
            (2, 0.001, 13.815_510_557_964_274),
            (3, 0.001, 16.266_236_196_238_13),
            (6, 0.001, 22.457_744_484_825_323),
            (30, 0.001, 59.703_064_304_429_94),
            (1, 0.05, 3.841_458_820_694_124),
        ] {
            let value = critical_value(degrees, level);
            assert!(
                (value - expected).abs() < 1e-8,
                "{degrees} {level}: {value}"
            );
        }
    }

    /// Γ(5) = 24, Γ(1/2) = √π.
    #[test]
    fn ln_gamma_by_hand() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }
}
