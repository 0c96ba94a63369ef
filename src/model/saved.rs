//! Fitted models on disk: versioned JSON with a `kind` tag, never a binary dump.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{FittedModel, ModelKind, Parameters};
use crate::io::atomic::{AtomicFile, OutputError};
use crate::matrix::MAX_CLASSES;

/// Version of the model file format.
pub const MODEL_FORMAT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format_version: u32,
    kind: ModelKind,
    labelgen_version: String,
    #[serde(flatten)]
    model: FittedModel,
}

/// Errors reading a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// The file could not be read.
    #[error("cannot read model `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another format version.
    #[error(
        "model `{path}` has format version {found}, but this labelgen reads version \
         {MODEL_FORMAT_VERSION}; fit it again with this labelgen"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
    },
    /// Not a model file.
    #[error("`{path}` is not a labelgen model file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Write `model` to `path` as JSON, atomically.
pub fn write_model(path: &Path, model: &FittedModel) -> Result<(), OutputError> {
    let mut out = AtomicFile::create(path)?;
    out.writer()
        .write_all(model_json(model).as_bytes())
        .map_err(|error| out.error(error))?;
    out.commit()
}

/// Read a model written by [`write_model`].
pub fn read_model(path: &Path) -> Result<FittedModel, ModelFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_model(&text, path)
}

/// The model of a model file's text (as [`write_model`] writes it, or [`model_json`] returns
/// it), checked as [`read_model`] checks a file; `path` names it in errors.
pub fn parse_model(text: &str, path: &Path) -> Result<FittedModel, ModelFileError> {
    let invalid = |message: String| ModelFileError::Invalid {
        path: path.to_owned(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| invalid(error.to_string()))?;
    let Some(version) = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    else {
        return Err(invalid("it has no `format_version`".to_owned()));
    };
    if version != u64::from(MODEL_FORMAT_VERSION) {
        return Err(ModelFileError::Version {
            path: path.to_owned(),
            found: version,
        });
    }
    let file: ModelFile =
        serde_json::from_value(value).map_err(|error| invalid(error.to_string()))?;
    if file.kind != file.model.kind() {
        return Err(invalid(format!(
            "its `kind` is {:?} but its parameters are those of {:?}",
            file.kind,
            file.model.kind()
        )));
    }
    validate(&file.model).map_err(|message| {
        invalid(format!(
            "{message}; the file was damaged or edited: fit the model again"
        ))
    })?;
    Ok(file.model)
}

/// The text of `model`'s file, as [`write_model`] writes it.
pub fn model_json(model: &FittedModel) -> String {
    let file = ModelFile {
        format_version: MODEL_FORMAT_VERSION,
        kind: model.kind(),
        labelgen_version: env!("CARGO_PKG_VERSION").to_owned(),
        model: model.clone(),
    };
    serde_json::to_string_pretty(&file).expect("models serialize")
}

/// How far a distribution's sum may stray from 1 (a file written by labelgen is exact to a few
/// units in the last place).
const SUM_TOLERANCE: f64 = 1e-6;

/// Check everything labelling relies on: class and LF names, and every parameter's count,
/// range and, for distributions, sum, so a damaged or edited file is refused on load instead
/// of changing labels (or giving NaN) silently. `Err` names the first field that is wrong.
fn validate(model: &FittedModel) -> Result<(), String> {
    let (k, m) = (model.classes.len(), model.lfs.len());
    if !(2..=MAX_CLASSES).contains(&k) {
        return Err(format!(
            "`classes` has {k} names; a model has 2 to {MAX_CLASSES} classes"
        ));
    }
    unique("classes", &model.classes)?;
    unique("lfs", &model.lfs)?;
    distribution("class_balance", &model.class_balance, k)?;
    length("lf_accuracy", model.lf_accuracy.len(), m)?;
    for (lf, accuracy) in model.lf_accuracy.iter().enumerate() {
        if let Some(accuracy) = accuracy {
            probability(&format!("lf_accuracy[{lf}]"), *accuracy, false)?;
        }
    }
    match &model.parameters {
        Parameters::Majority => Ok(()),
        Parameters::Generative(parameters) => {
            same_balance(&parameters.class_balance, &model.class_balance)?;
            matrix("parameters.coverage", &parameters.coverage, m, k, false)?;
            length("parameters.polarity", parameters.polarity.len(), m)?;
            for (lf, polarity) in parameters.polarity.iter().enumerate() {
                length(&format!("parameters.polarity[{lf}]"), polarity.len(), k)?;
            }
            length("parameters.confusion", parameters.confusion.len(), m)?;
            for (lf, confusion) in parameters.confusion.iter().enumerate() {
                matrix(
                    &format!("parameters.confusion[{lf}]"),
                    confusion,
                    k,
                    k,
                    false,
                )?;
            }
            Ok(())
        }
        Parameters::DawidSkene(parameters) => {
            // Logarithms of every cell are taken: a zero would make probabilities NaN.
            same_balance(&parameters.class_balance, &model.class_balance)?;
            length("parameters.confusion", parameters.confusion.len(), m)?;
            for (lf, confusion) in parameters.confusion.iter().enumerate() {
                let name = format!("parameters.confusion[{lf}]");
                matrix(&name, confusion, k, k + 1, true)?;
                for (class, row) in confusion.iter().enumerate() {
                    distribution(&format!("{name}[{class}]"), row, k + 1)?;
                }
            }
            Ok(())
        }
        Parameters::Snorkel(parameters) => {
            same_balance(&parameters.class_balance, &model.class_balance)?;
            matrix("parameters.mu", &parameters.mu, m * k, k, true)
        }
        Parameters::Hyper(parameters) => {
            same_balance(&parameters.class_balance, &model.class_balance)?;
            parameters.validate(k, m)
        }
    }
}

fn length(name: &str, found: usize, expected: usize) -> Result<(), String> {
    if found == expected {
        return Ok(());
    }
    Err(format!("`{name}` has {found} entries, not {expected}"))
}

/// A probability: finite, in `[0, 1]`, and above 0 when `positive`.
fn probability(name: &str, value: f64, positive: bool) -> Result<(), String> {
    let low_ok = if positive { value > 0.0 } else { value >= 0.0 };
    if low_ok && value <= 1.0 {
        return Ok(());
    }
    let range = if positive { "(0, 1]" } else { "[0, 1]" };
    Err(format!("`{name}` is {value}, not a probability in {range}"))
}

/// `rows` rows of `columns` probabilities.
fn matrix(
    name: &str,
    values: &[Vec<f64>],
    rows: usize,
    columns: usize,
    positive: bool,
) -> Result<(), String> {
    length(name, values.len(), rows)?;
    for (row, values) in values.iter().enumerate() {
        length(&format!("{name}[{row}]"), values.len(), columns)?;
        for (column, value) in values.iter().enumerate() {
            probability(&format!("{name}[{row}][{column}]"), *value, positive)?;
        }
    }
    Ok(())
}

/// `len` probabilities summing to 1.
fn distribution(name: &str, values: &[f64], len: usize) -> Result<(), String> {
    length(name, values.len(), len)?;
    for (index, value) in values.iter().enumerate() {
        probability(&format!("{name}[{index}]"), *value, false)?;
    }
    let sum: f64 = values.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(format!("`{name}` sums to {sum}, not 1"));
    }
    Ok(())
}

/// The parameters' class balance is the model's (labels use the parameters').
fn same_balance(parameters: &[f64], model: &[f64]) -> Result<(), String> {
    if parameters == model {
        return Ok(());
    }
    Err("`parameters.class_balance` differs from `class_balance`".to_owned())
}

fn unique(name: &str, names: &[String]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    match names.iter().find(|item| !seen.insert(item.as_str())) {
        Some(twice) => Err(format!("`{name}` names `{twice}` twice")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::LabelMatrix;
    use crate::model::{ClassBalance, FitOptions, fit};
    use crate::patterns::PatternCounts;

    /// Every model labelgen fits passes the checks on load, across models, class counts, class
    /// balances and sparse or dense votes (the checks must never refuse a genuine file), and
    /// labels the same after the round trip.
    #[test]
    fn every_fitted_model_reads_back() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("model.json");
        for (k, n_lfs, density, seed) in [(2, 4, 0.3, 1), (3, 6, 0.8, 2), (5, 3, 0.05, 3)] {
            let mut uniform = crate::test_support::uniform_stream(seed);
            let votes = ndarray::Array2::from_shape_fn((300, n_lfs), |_| {
                if uniform() < density {
                    ((uniform() * k as f64) as i8).min(k as i8 - 1)
                } else {
                    -1
                }
            });
            let names = (0..n_lfs).map(|lf| format!("lf{lf}")).collect();
            let classes = (0..k).map(|class| format!("c{class}")).collect();
            let matrix = LabelMatrix::new(votes, names, classes).unwrap();
            let stats = PatternCounts::from_matrix(&matrix);
            for kind in [
                ModelKind::Majority,
                ModelKind::Generative,
                ModelKind::DawidSkene,
                ModelKind::Snorkel,
                ModelKind::Hyper,
            ] {
                for class_balance in [ClassBalance::Auto, ClassBalance::Estimated] {
                    let options = FitOptions {
                        class_balance,
                        ..FitOptions::default()
                    };
                    let model = fit(
                        kind,
                        &stats,
                        matrix.lf_names(),
                        matrix.classes(),
                        &options,
                        String::new(),
                    )
                    .unwrap();
                    write_model(&path, &model).unwrap();
                    let back = read_model(&path)
                        .unwrap_or_else(|error| panic!("{kind:?} k = {k}: {error}"));
                    assert_eq!(back.predict_proba(&matrix), model.predict_proba(&matrix));
                }
            }
        }
    }

    /// The first thing wrong is named, with the path of the field.
    #[test]
    fn damaged_fields_are_named() {
        let model = |balance: Vec<f64>, mu: Vec<Vec<f64>>| FittedModel {
            classes: vec!["a".into(), "b".into()],
            lfs: vec!["x".into()],
            class_balance: balance.clone(),
            lf_accuracy: vec![Some(0.8)],
            parameters: Parameters::Snorkel(crate::model::snorkel::SnorkelParameters {
                class_balance: balance,
                mu,
            }),
            diagnostics: Default::default(),
            training_fingerprint: String::new(),
            fit_options: None,
        };
        let mu = vec![vec![0.7, 0.2], vec![0.1, 0.6]];
        assert_eq!(validate(&model(vec![0.4, 0.6], mu.clone())), Ok(()));
        assert_eq!(
            validate(&model(vec![1.5, -0.5], mu.clone())),
            Err("`class_balance[0]` is 1.5, not a probability in [0, 1]".to_owned())
        );
        assert_eq!(
            validate(&model(vec![0.4, 0.6], vec![vec![0.7, 0.2], vec![0.1]])),
            Err("`parameters.mu[1]` has 1 entries, not 2".to_owned())
        );
        assert_eq!(
            validate(&model(vec![0.4, 0.6], vec![vec![0.7, 0.0], vec![0.1, 0.6]])),
            Err("`parameters.mu[0][1]` is 0, not a probability in (0, 1]".to_owned())
        );
        let mut other_balance = model(vec![0.4, 0.6], mu);
        other_balance.class_balance = vec![0.5, 0.5];
        assert_eq!(
            validate(&other_balance),
            Err("`parameters.class_balance` differs from `class_balance`".to_owned())
        );
    }
}
