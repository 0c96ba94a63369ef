//! The downstream training stage: a noise-aware text classifier trained on probabilistic
//! labels ([`train`]), its versioned model file, and prediction.
//!
//! Features come from [`features`] (hashed word n-grams, TF-IDF), the model from
//! [`classifier`] (multinomial logistic regression on the soft-label cross-entropy, L-BFGS).
//! With validation rows (gold labels), [`train`] selects the L2 strength among three and
//! stops early on validation accuracy.

pub mod classifier;
pub mod features;

use std::io::Write as _;
use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::io::atomic::{AtomicFile, OutputError};
use crate::metrics::{Scores, score};
use classifier::{TrainReport, TrainingSet};
use features::{FeatureConfig, SparseRows, apply_idf, inverse_document_frequency};

/// Rows featurised at a time by [`Classifier::predict_proba`].
const PREDICT_BLOCK_ROWS: usize = 1 << 16;
/// Version of the classifier file format.
pub const CLASSIFIER_FORMAT_VERSION: u32 = 1;

/// How rows are weighted by class.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassWeights {
    /// Every row weighs 1.
    #[default]
    None,
    /// Each class weighs `n / (k · n_c)`, with `n_c` its expected count under the targets.
    Balanced,
    /// One weight per class.
    Given(Vec<f64>),
}

/// A class weight that is not a non-negative number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{0}` is not a non-negative number")]
pub struct ClassWeightError(pub String);

impl std::str::FromStr for ClassWeights {
    type Err = ClassWeightError;

    /// `balanced`, or one non-negative weight per class, comma-separated.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "balanced" {
            return Ok(ClassWeights::Balanced);
        }
        text.split(',')
            .map(|weight| {
                weight
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|w| *w >= 0.0)
                    .ok_or_else(|| ClassWeightError(weight.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(ClassWeights::Given)
    }
}

/// The rows to train on: the covered ones of a labels file that records them (`covered`),
/// unless `include_uncovered`; else all `rows`.
pub fn rows_kept(covered: Option<&[bool]>, include_uncovered: bool, rows: usize) -> Vec<bool> {
    match (covered, include_uncovered) {
        (Some(covered), false) => covered.to_vec(),
        _ => vec![true; rows],
    }
}

/// Training options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// The featuriser.
    pub features: FeatureConfig,
    /// L2 strength; `None` = `1 / n` (scikit-learn's `C = 1`), and with validation rows the
    /// best of `0.1 / n`, `1 / n`, `10 / n`.
    pub l2: Option<f64>,
    /// L-BFGS iteration limit (default 100, scikit-learn's `max_iter`).
    pub max_iterations: u64,
    /// Gradient-norm tolerance.
    pub tolerance: f64,
    /// Class weights.
    pub class_weights: ClassWeights,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureConfig::default(),
            l2: None,
            max_iterations: 100,
            tolerance: 1e-6,
            class_weights: ClassWeights::None,
        }
    }
}

/// A classifier's predictions, ready to write with [`Predictions::table`].
#[derive(Clone, Debug)]
pub struct Predictions {
    /// Rows x classes.
    pub probabilities: Array2<f64>,
    /// Hard labels.
    pub labels: Vec<i8>,
    /// Every row is written.
    pub keep: Vec<bool>,
    /// What the predictions file records about them.
    pub metadata: crate::io::labels_file::LabelsMetadata,
}

impl Predictions {
    /// The table to write: the row keys (`keys`), the `source` columns carried over, then the
    /// predictions.
    pub fn table<'a>(
        &'a self,
        keys: Option<(&'a str, &'a crate::matrix::RowKeys)>,
        source: &'a [(String, crate::table::Column)],
    ) -> crate::io::labels_file::LabelTable<'a> {
        crate::io::labels_file::LabelTable {
            keys,
            source,
            probabilities: &self.probabilities,
            labels: &self.labels,
            covered: None,
            keep: &self.keep,
            metadata: &self.metadata,
        }
    }
}

/// Errors training or using a classifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifierError {
    /// Nothing to train on.
    #[error("no training rows{0}")]
    Empty(String),
    /// Inputs disagree.
    #[error("{0}")]
    Invalid(String),
    /// The optimiser failed.
    #[error("training failed: {0}")]
    Optimiser(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The model file could not be read.
    #[error("cannot read classifier `{path}`: {message}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
        /// The error behind it, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The model file is of another format version.
    #[error(
        "`{path}` is a classifier of format version {found}; this labelgen reads version {CLASSIFIER_FORMAT_VERSION}: retrain it with `labelgen train`"
    )]
    Version {
        /// The file.
        path: std::path::PathBuf,
        /// Its version.
        found: u32,
    },
    /// Writing failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// One validated candidate of model selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its L2 strength.
    pub l2: f64,
    /// L-BFGS iterations at its best validation score.
    pub iterations: u64,
    /// Validation accuracy (abstains impossible: every row gets a class).
    pub accuracy: f64,
    /// Validation macro-F1.
    pub macro_f1: f64,
}

/// What training did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Rows trained on.
    pub rows: usize,
    /// Rows left out because no LF covered them.
    pub excluded_uncovered: usize,
    /// `"soft"` (probabilities) or `"hard"` (one-hot of the most probable class).
    pub targets: String,
    /// The L2 strength used.
    pub l2: f64,
    /// The optimiser's report for the final model.
    pub report: TrainReport,
    /// Model selection on the validation rows, when given.
    pub validation: Vec<Candidate>,
    /// The options.
    pub options: TrainOptions,
    /// BLAKE3 (hex) of the training labels file, when trained from one.
    pub labels_hash: Option<String>,
}

/// A trained classifier: what the model file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classifier {
    /// [`CLASSIFIER_FORMAT_VERSION`].
    pub format_version: u32,
    /// Always `"classifier"`.
    pub kind: String,
    /// labelgen's version.
    pub labelgen_version: String,
    /// Class names, in id order.
    pub classes: Vec<String>,
    /// The featuriser, as trained.
    pub features: FeatureConfig,
    /// `(bucket, idf)` of the buckets seen in training.
    pub idf: Vec<(u32, f32)>,
    /// `(bucket, weight per class)` for every bucket with a nonzero weight.
    pub weights: Vec<(u32, Vec<f64>)>,
    /// Bias per class.
    pub bias: Vec<f64>,
    /// How it was trained.
    pub training: TrainingInfo,
}

/// Training rows: texts, targets (rows x classes) and which rows count.
pub struct TrainingRows<'a, S> {
    /// The texts.
    pub texts: &'a [S],
    /// Probabilities per class (or one-hot), rows x classes.
    pub targets: &'a Array2<f64>,
    /// Rows to use (for example the covered ones).
    pub keep: &'a [bool],
    /// Use the most probable class (one-hot) instead of the probabilities.
    pub hard: bool,
}

/// Validation rows with gold labels (`-1` = unknown, left out).
pub struct Validation<'a, S> {
    /// The texts.
    pub texts: &'a [S],
    /// Gold class ids.
    pub gold: &'a [i64],
}

fn one_hot(row: ndarray::ArrayView1<'_, f64>) -> Vec<f64> {
    let mut best = 0;
    for (class, p) in row.iter().enumerate() {
        if *p > row[best] {
            best = class;
        }
    }
    (0..row.len())
        .map(|class| if class == best { 1.0 } else { 0.0 })
        .collect()
}

/// Train a classifier on `rows` (with `classes`) and, when given, select and stop early on
/// `validation`.
pub fn train<S: AsRef<str> + Sync>(
    rows: &TrainingRows<'_, S>,
    classes: &[String],
    options: &TrainOptions,
    validation: Option<&Validation<'_, S>>,
) -> Result<Classifier, ClassifierError> {
    let k = classes.len();
    if rows.targets.ncols() != k || rows.targets.nrows() != rows.texts.len() {
        return Err(ClassifierError::Invalid(format!(
            "{} texts and a {} x {} target table for {k} classes",
            rows.texts.len(),
            rows.targets.nrows(),
            rows.targets.ncols()
        )));
    }
    let (kept, targets) = kept_targets(rows, k)?;
    let texts: Vec<&str> = kept.iter().map(|row| rows.texts[*row].as_ref()).collect();
    let class_weight = class_weights(&options.class_weights, &targets, k)?;
    let weights: Vec<f64> = targets
        .chunks_exact(k)
        .map(|target| target.iter().zip(&class_weight).map(|(p, w)| p * w).sum())
        .collect();
    let config = &options.features;
    let mut features = config.term_frequencies(&texts);
    let idf = inverse_document_frequency(&features);
    apply_idf(&mut features, &idf);
    // One weight per bucket seen in training (features are renumbered by `apply_idf`).
    let dimension = idf.len();
    let data = TrainingSet {
        rows: &features,
        targets: &targets,
        weights: &weights,
        classes: k,
        dimension,
    };
    let base = 1.0 / kept.len() as f64;
    let validation_rows = validation.map(|validation| {
        let mut rows = config.term_frequencies(validation.texts);
        apply_idf(&mut rows, &idf);
        rows
    });
    let (theta, l2, report, candidates) = match (validation, &validation_rows) {
        (Some(validation), Some(validation_rows)) => {
            let grid = match options.l2 {
                Some(l2) => vec![l2],
                None => vec![0.1 * base, base, 10.0 * base],
            };
            select(&data, &grid, options, validation_rows, validation.gold)?
        }
        _ => {
            let l2 = options.l2.unwrap_or(base);
            let (theta, report) =
                classifier::train(&data, l2, options.max_iterations, options.tolerance, None)
                    .map_err(ClassifierError::Optimiser)?;
            (theta, l2, report, Vec::new())
        }
    };
    let weights = nonzero_weights(&idf, &theta, k);
    Ok(Classifier {
        format_version: CLASSIFIER_FORMAT_VERSION,
        kind: "classifier".to_owned(),
        labelgen_version: env!("CARGO_PKG_VERSION").to_owned(),
        classes: classes.to_vec(),
        features: config.clone(),
        idf,
        weights,
        bias: theta[dimension * k..].to_vec(),
        training: TrainingInfo {
            rows: kept.len(),
            excluded_uncovered: rows.texts.len() - kept.len(),
            targets: if rows.hard { "hard" } else { "soft" }.to_owned(),
            l2,
            report,
            validation: candidates,
            options: options.clone(),
            labels_hash: None,
        },
    })
}

/// The rows to train on (`keep`) and their targets, row-major: each row's probabilities
/// normalised to sum to 1, or one-hot with `hard`. Refuses no row and a row that is not a
/// distribution.
fn kept_targets<S: AsRef<str>>(
    rows: &TrainingRows<'_, S>,
    k: usize,
) -> Result<(Vec<usize>, Vec<f64>), ClassifierError> {
    let kept: Vec<usize> = (0..rows.texts.len())
        .filter(|row| rows.keep[*row])
        .collect();
    if kept.is_empty() {
        return Err(ClassifierError::Empty(
            " after leaving out the rows no LF covered".to_owned(),
        ));
    }
    let mut targets = Vec::with_capacity(kept.len() * k);
    for row in &kept {
        let target = rows.targets.row(*row);
        if rows.hard {
            targets.extend(one_hot(target));
        } else {
            let total: f64 = target.sum();
            if total.is_nan() || total <= 0.0 || target.iter().any(|p| !p.is_finite() || *p < 0.0) {
                return Err(ClassifierError::Invalid(format!(
                    "row {row} (counting from 0): the class probabilities {target} are not a \
                     distribution"
                )));
            }
            targets.extend(target.iter().map(|p| p / total));
        }
    }
    Ok((kept, targets))
}

/// Each class's weight: 1, `n / (k · n_c)` with `n_c` the class's expected count under the
/// `targets` (balanced), or as given (one a class).
fn class_weights(
    weights: &ClassWeights,
    targets: &[f64],
    k: usize,
) -> Result<Vec<f64>, ClassifierError> {
    Ok(match weights {
        ClassWeights::None => vec![1.0; k],
        ClassWeights::Balanced => {
            let mut mass = vec![0.0; k];
            for target in targets.chunks_exact(k) {
                for (total, p) in mass.iter_mut().zip(target) {
                    *total += p;
                }
            }
            let n = (targets.len() / k) as f64;
            mass.iter()
                .map(|m| if *m > 0.0 { n / (k as f64 * m) } else { 0.0 })
                .collect()
        }
        ClassWeights::Given(weights) if weights.len() == k => weights.clone(),
        ClassWeights::Given(weights) => {
            return Err(ClassifierError::Invalid(format!(
                "{} class weights for {k} classes",
                weights.len()
            )));
        }
    })
}

/// The weights of the features (hash buckets) with any nonzero weight, by bucket.
fn nonzero_weights(idf: &[(u32, f32)], theta: &[f64], k: usize) -> Vec<(u32, Vec<f64>)> {
    idf.iter()
        .enumerate()
        .filter_map(|(feature, (bucket, _))| {
            let row = &theta[feature * k..(feature + 1) * k];
            row.iter()
                .any(|w| *w != 0.0)
                .then(|| (*bucket, row.to_vec()))
        })
        .collect()
}

/// Iterations per early-stopping round.
const ROUND: u64 = 25;
/// Rounds without a better validation score before stopping.
const PATIENCE: usize = 2;

type Selected = (Vec<f64>, f64, TrainReport, Vec<Candidate>);
/// Parameters, their report, (accuracy, macro-F1) on validation, iterations so far.
type RoundBest = (Vec<f64>, TrainReport, (f64, f64), u64);

/// For each L2 strength, train in rounds of [`ROUND`] iterations (each warm-started from the
/// last) and keep the parameters with the best validation (accuracy, then macro-F1), stopping
/// after [`PATIENCE`] rounds without improvement; return the best over the grid.
fn select(
    data: &TrainingSet<'_>,
    grid: &[f64],
    options: &TrainOptions,
    validation: &SparseRows,
    gold: &[i64],
) -> Result<Selected, ClassifierError> {
    let k = data.classes;
    let evaluate = |theta: &[f64]| -> Scores {
        let probabilities = classifier::predict(theta, validation, k, data.dimension);
        let labels: Vec<i8> = probabilities
            .chunks_exact(k)
            .map(|p| one_hot_index(p) as i8)
            .collect();
        score(&labels, gold, k, |_| true)
    };
    let mut best: Option<(Selected, (f64, f64))> = None;
    let mut candidates = Vec::new();
    for l2 in grid {
        let mut theta: Option<Vec<f64>> = None;
        let mut iterations = 0;
        let mut round_best: Option<RoundBest> = None;
        let mut stale = 0;
        // At least one round, of no iteration when the limit is 0 (the model at its start, as
        // without validation rows).
        loop {
            let budget = ROUND.min(options.max_iterations - iterations);
            let (next, report) =
                classifier::train(data, *l2, budget, options.tolerance, theta.take())
                    .map_err(ClassifierError::Optimiser)?;
            // A round that stops at once still counts one, so the loop ends.
            iterations += report.iterations.max(budget.min(1));
            let scores = evaluate(&next);
            let key = (scores.accuracy, scores.macro_f1);
            let better = round_best
                .as_ref()
                .is_none_or(|(_, _, best_key, _)| key > *best_key);
            let converged = report.converged;
            if better {
                round_best = Some((next.clone(), report, key, iterations));
                stale = 0;
            } else {
                stale += 1;
            }
            theta = Some(next);
            if converged || iterations >= options.max_iterations || stale >= PATIENCE {
                break;
            }
        }
        let (theta, report, key, at) = round_best.expect("at least one round");
        candidates.push(Candidate {
            l2: *l2,
            iterations: at,
            accuracy: key.0,
            macro_f1: key.1,
        });
        if best.as_ref().is_none_or(|(_, best_key)| key > *best_key) {
            best = Some(((theta, *l2, report, Vec::new()), key));
        }
    }
    let ((theta, l2, report, _), _) = best.expect("a non-empty grid");
    Ok((theta, l2, report, candidates))
}

fn one_hot_index(p: &[f64]) -> usize {
    let mut best = 0;
    for (class, value) in p.iter().enumerate() {
        if *value > p[best] {
            best = class;
        }
    }
    best
}

impl Classifier {
    /// The parameter vector over the training buckets (in `idf` order), then the biases.
    fn theta(&self) -> Vec<f64> {
        let k = self.classes.len();
        let dimension = self.idf.len();
        let mut theta = vec![0.0; dimension * k + k];
        for (bucket, weights) in &self.weights {
            if let Ok(feature) = self.idf.binary_search_by_key(bucket, |(b, _)| *b) {
                theta[feature * k..(feature + 1) * k].copy_from_slice(weights);
            }
        }
        theta[dimension * k..].copy_from_slice(&self.bias);
        theta
    }

    /// Predictions of `texts`: probabilities, hard labels (random tie-breaks seeded by `seed`
    /// and the row `keys`, if any) and the metadata of the predictions file, which names the
    /// data by `data_hash`.
    pub fn predict<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        keys: Option<&crate::matrix::RowKeys>,
        seed: u64,
        data_hash: String,
    ) -> Predictions {
        use crate::hard_labels::TieBreak;
        use crate::io::labels_file::{LABELS_FORMAT_VERSION, LabelsMetadata};
        let probabilities = self.predict_proba(texts);
        let labels = crate::hard_labels::hard_labels(&probabilities, keys, TieBreak::Random, seed);
        let metadata = LabelsMetadata {
            kind: "predictions".to_owned(),
            format_version: LABELS_FORMAT_VERSION,
            labelgen_version: env!("CARGO_PKG_VERSION").to_owned(),
            classes: self.classes.clone(),
            model_kind: "classifier".to_owned(),
            model_training_fingerprint: self.training.labels_hash.clone().unwrap_or_default(),
            matrix_fingerprint: data_hash,
            tie_break: TieBreak::Random,
            seed,
            filter_uncovered: false,
            class_balance: None,
            class_balance_source: None,
        };
        Predictions {
            keep: vec![true; labels.len()],
            probabilities,
            labels,
            metadata,
        }
    }

    /// Class probabilities of `texts`, rows x classes; rows in parallel, in order.
    pub fn predict_proba<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Array2<f64> {
        let k = self.classes.len();
        let theta = self.theta();
        let mut flat = Vec::with_capacity(texts.len() * k);
        // A row's features depend on its text alone: featurising in blocks bounds the memory
        // of the sparse features, and gives the same numbers.
        for block in texts.chunks(PREDICT_BLOCK_ROWS) {
            let mut rows = self.features.term_frequencies(block);
            apply_idf(&mut rows, &self.idf);
            flat.extend(classifier::predict(&theta, &rows, k, self.idf.len()));
        }
        Array2::from_shape_vec((texts.len(), k), flat).expect("rows x classes")
    }

    /// Write the model file (JSON), atomically.
    pub fn write(&self, path: &Path) -> Result<(), ClassifierError> {
        let mut file = AtomicFile::create(path)?;
        let json = serde_json::to_vec_pretty(self).expect("classifier serialises");
        file.writer()
            .write_all(&json)
            .map_err(|error| file.error(error))?;
        file.commit()?;
        Ok(())
    }
}

/// Read a classifier file, refusing other format versions and kinds.
pub fn read_classifier(path: &Path) -> Result<Classifier, ClassifierError> {
    let read_error = |message: String| ClassifierError::Read {
        path: path.to_owned(),
        message,
        source: None,
    };
    let caused =
        |message: String, source: Box<dyn std::error::Error + Send + Sync>| ClassifierError::Read {
            path: path.to_owned(),
            message,
            source: Some(source),
        };
    let text = std::fs::read_to_string(path)
        .map_err(|error| caused(error.to_string(), Box::new(error)))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| caused(format!("not JSON: {error}"), Box::new(error)))?;
    if value.get("kind").and_then(|kind| kind.as_str()) != Some("classifier") {
        return Err(read_error(
            "not a labelgen classifier (no `\"kind\": \"classifier\"`); `labelgen train` writes them".to_owned(),
        ));
    }
    let version = value
        .get("format_version")
        .and_then(|version| version.as_u64())
        .ok_or_else(|| read_error("no format_version".to_owned()))?;
    if version != u64::from(CLASSIFIER_FORMAT_VERSION) {
        return Err(ClassifierError::Version {
            path: path.to_owned(),
            found: version as u32,
        });
    }
    serde_json::from_value(value).map_err(|error| caused(error.to_string(), Box::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts separable by one word each: training reaches 100 % on them and on new texts with
    /// those words.
    #[test]
    fn separable_toy_set_is_learned_exactly() {
        let texts = [
            "buy cheap pills now",
            "cheap watches buy",
            "visit my channel buy",
            "great song love it",
            "love this video",
            "the song is great",
        ];
        let targets = ndarray::array![
            [0.1, 0.9],
            [0.2, 0.8],
            [0.3, 0.7],
            [0.9, 0.1],
            [0.8, 0.2],
            [0.7, 0.3]
        ];
        let classes = vec!["ham".to_owned(), "spam".to_owned()];
        let keep = [true; 6];
        let rows = TrainingRows {
            texts: &texts,
            targets: &targets,
            keep: &keep,
            hard: false,
        };
        let model = train(&rows, &classes, &TrainOptions::default(), None).unwrap();
        let probabilities = model.predict_proba(&texts);
        for (row, p) in probabilities.rows().into_iter().enumerate() {
            let predicted = usize::from(p[1] > p[0]);
            assert_eq!(predicted, usize::from(row < 3), "row {row}: {p}");
            assert!((p.sum() - 1.0).abs() < 1e-12);
        }
        let new = model.predict_proba(&["buy buy buy", "love the song"]);
        assert!(new[[0, 1]] > 0.5 && new[[1, 0]] > 0.5, "{new}");
        // Round trip through the file.
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("model.json");
        model.write(&path).unwrap();
        let read = read_classifier(&path).unwrap();
        assert_eq!(read, model);
        assert_eq!(read.predict_proba(&texts), probabilities);
        // More rows than one featurising block: each row gets what it gets alone.
        let many: Vec<&str> = texts
            .iter()
            .cycle()
            .take(PREDICT_BLOCK_ROWS + 7)
            .copied()
            .collect();
        let blocked = model.predict_proba(&many);
        for (row, p) in blocked.rows().into_iter().enumerate() {
            assert_eq!(p, probabilities.row(row % texts.len()), "row {row}");
        }
    }

    #[test]
    fn thread_count_changes_no_weight() {
        let n = 3 * 2048 + 5;
        let texts: Vec<String> = (0..n)
            .map(|i| format!("word{} word{} common{}", i % 97, i % 13, i % 5))
            .collect();
        let targets = Array2::from_shape_fn(
            (n, 3),
            |(row, class)| {
                if row % 3 == class { 0.8 } else { 0.1 }
            },
        );
        let keep = vec![true; n];
        let rows = TrainingRows {
            texts: &texts,
            targets: &targets,
            keep: &keep,
            hard: false,
        };
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|c| c.to_string()).collect();
        let options = TrainOptions {
            max_iterations: 30,
            features: FeatureConfig {
                hash_bits: 12,
                ..FeatureConfig::default()
            },
            ..TrainOptions::default()
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single = one.install(|| train(&rows, &classes, &options, None).unwrap());
        let many = train(&rows, &classes, &options, None).unwrap();
        assert_eq!(
            serde_json::to_string(&single).unwrap(),
            serde_json::to_string(&many).unwrap()
        );
    }
}
