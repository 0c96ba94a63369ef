//! Helpers shared by the unit tests.

/// A seeded stream of uniform numbers in `[0, 1)` (xorshift64), enough for synthetic votes.
pub(crate) fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed.max(1);
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Assert that the gradient `evaluate` returns at `theta` matches central finite differences
/// of its cost to within `tolerance`, coordinate by coordinate.
pub(crate) fn assert_gradient_matches(
    evaluate: impl Fn(&[f64]) -> (f64, Vec<f64>),
    theta: &[f64],
    tolerance: f64,
    context: &str,
) {
    let (_, gradient) = evaluate(theta);
    let step = 1e-6;
    for index in 0..theta.len() {
        let mut up = theta.to_vec();
        up[index] += step;
        let mut down = theta.to_vec();
        down[index] -= step;
        let numeric = (evaluate(&up).0 - evaluate(&down).0) / (2.0 * step);
        assert!(
            (numeric - gradient[index]).abs() < tolerance,
            "{context} parameter {index}: {numeric} vs {}",
            gradient[index]
        );
    }
}

/// Assert that `diagnostics` carry a warning containing `text`.
pub(crate) fn assert_warns(diagnostics: &crate::model::Diagnostics, text: &str) {
    assert!(
        diagnostics
            .warnings
            .iter()
            .any(|warning| warning.contains(text)),
        "no warning about `{text}` in {diagnostics:?}"
    );
}
