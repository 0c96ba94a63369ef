//! Majority vote: each row's label is the class most of its votes name; ties share the
//! probability equally, and a row nobody voted on gets every class equally.

use super::{
    ClassBalance, Diagnostics, FitError, FitOptions, FittedModel, Parameters, fixed_balance,
};
use crate::patterns::{PatternCounts, Vote};

/// `P(Y | votes)` of majority vote: uniform over the classes with the most votes.
pub fn posterior(votes: &[Vote], out: &mut [f64]) {
    out.fill(0.0);
    for vote in votes {
        out[vote.class()] += 1.0;
    }
    let best = out.iter().cloned().fold(0.0, f64::max);
    let winners = out.iter().filter(|count| **count == best).count() as f64;
    for value in out.iter_mut() {
        *value = if *value == best { 1.0 / winners } else { 0.0 };
    }
}

/// Majority vote needs no fitting; it records the class balance of its own hard labels, or
/// the balance given in the options.
pub fn fit(stats: &PatternCounts, options: &FitOptions) -> Result<FittedModel, FitError> {
    let k = stats.cardinality();
    let class_balance = match options.class_balance {
        ClassBalance::Estimated => {
            let mut totals = vec![0.0; k];
            let mut out = vec![0.0; k];
            for pattern in 0..stats.len() {
                posterior(stats.pattern(pattern), &mut out);
                for (total, p) in totals.iter_mut().zip(&out) {
                    *total += p * stats.count(pattern) as f64;
                }
            }
            let n = stats.n_rows() as f64;
            totals.iter().map(|total| total / n).collect()
        }
        _ => fixed_balance(options, k).expect("not estimated"),
    };
    Ok(FittedModel {
        classes: Vec::new(),
        lfs: Vec::new(),
        class_balance,
        lf_accuracy: vec![None; stats.n_lfs()],
        parameters: Parameters::Majority,
        diagnostics: Diagnostics {
            iterations: 0,
            converged: true,
            objective: 0.0,
            warnings: Vec::new(),
            ..Diagnostics::default()
        },
        training_fingerprint: String::new(),
        fit_options: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_votes_win_and_ties_share() {
        let mut out = [0.0; 3];
        posterior(
            &[Vote::new(0, 1), Vote::new(1, 1), Vote::new(2, 0)],
            &mut out,
        );
        assert_eq!(out, [0.0, 1.0, 0.0]);
        posterior(&[Vote::new(0, 1), Vote::new(2, 0)], &mut out);
        assert_eq!(out, [0.5, 0.5, 0.0]);
        posterior(&[], &mut out);
        assert_eq!(out, [1.0 / 3.0; 3]);
    }
}
