//! The Hyper Label Model (Wu, Chen, Zhang and Chu, "Learning Hyper Label Model for
//! Programmatic Weak Supervision", ICLR 2023): a small graph network, trained once by its
//! authors on synthetic label matrices, that labels a matrix in one forward pass. Nothing is
//! fitted to the user's data; the network reads the whole matrix at once.
//!
//! The network (4,641 parameters, bundled in `weights.json`, converted from the PyPI package
//! `hyperlm` 0.0.5 by `scripts/convert_hyperlm_weights.py`; MIT licence, in `LICENSE` beside
//! it) sees a binary problem as a sparse matrix of `+1` (a vote for the class), `-1` (a vote
//! for another) and nothing (an abstain). Four graph layers update every vote's embedding from
//! its own, the mean of its row, the mean of its column and the mean of the whole matrix (each
//! through its own linear map), concatenated, through a linear map and a leaky ReLU; the mean
//! of a row's final embeddings goes through a three-layer perceptron and a sigmoid to give
//! `P(class)`. With two classes that is `P(Y = 1)`; with more, each class is one such problem
//! (its votes `+1`, the others' `-1`) and the sigmoids are normalised over the classes. The
//! probabilities are then stretched as `hyperlm` does (`calibrate_probs`): those above `1/k`
//! linearly so the largest in the matrix becomes `2/k`, those below so the smallest becomes 0.
//!
//! Every pooling is a mean over a row, a column or the whole matrix, so the pass runs exactly
//! on the distinct vote rows weighted by their counts ([`PatternCounts`]). It is made inductive
//! by keeping what a row's pass needs from the rest of the matrix: per problem and layer, the
//! mean embedding of each column and of the whole training matrix, and the calibration's two
//! extremes. A row of the training matrix gets exactly the network's output on that matrix; a
//! new row gets the output it would have as one more row of it (its own weight in the column
//! means left out). The bundled `hyperlm` package differs in two places, both documented: it
//! counts the classes from the largest vote it sees (labelgen uses the matrix's classes), and
//! it gives a row no LF covered the network's output on an empty row, which carries no
//! evidence; labelgen gives such a row the class balance (uniform), as its other models do.
//!
//! Each LF's estimated accuracy is the mean probability the model gives the class it voted,
//! over the training rows it voted on.

use std::sync::OnceLock;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Diagnostics, FitError, FitOptions, FittedModel, Parameters};
use crate::patterns::{PatternCounts, Vote};

/// The bundled weights (see the module documentation).
const WEIGHTS: &str = include_str!("weights.json");
/// Embedding widths: the input, then the output of each of the four graph layers.
const WIDTHS: [usize; 5] = [1, 8, 8, 8, 32];
/// Added to a mean's count, as `hyperlm` does (`sparse_mean`).
const EPSILON: f64 = 1e-9;
/// Patterns per parallel work item.
const PATTERN_CHUNK: usize = 2048;

/// `y = W x + b`, `W` row-major (`outputs` x `inputs`).
#[derive(Debug)]
struct Linear {
    inputs: usize,
    outputs: usize,
    weight: Vec<f64>,
    bias: Vec<f64>,
}

impl Linear {
    fn apply(&self, input: &[f64], out: &mut [f64]) {
        for (row, (out, bias)) in out.iter_mut().zip(&self.bias).enumerate() {
            let weights = &self.weight[row * self.inputs..(row + 1) * self.inputs];
            *out = bias + weights.iter().zip(input).map(|(w, x)| w * x).sum::<f64>();
        }
    }

    fn applied(&self, input: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.outputs];
        self.apply(input, &mut out);
        out
    }
}

/// One graph layer: `own`, `row`, `column` and `global` map `inputs` to `inputs`; `combine` maps
/// their concatenation to `outputs`.
#[derive(Debug)]
struct GraphLayer {
    own: Linear,
    row: Linear,
    column: Linear,
    global: Linear,
    combine: Linear,
}

/// The network.
#[derive(Debug)]
struct Network {
    layers: Vec<GraphLayer>,
    classify: [Linear; 3],
}

#[derive(Deserialize)]
struct WeightsFile {
    tensors: std::collections::BTreeMap<String, Tensor>,
}

#[derive(Deserialize)]
struct Tensor {
    shape: Vec<usize>,
    values: Vec<f64>,
}

fn leaky_relu(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.01 * x }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Network {
    /// The bundled network, read once.
    fn bundled() -> &'static Network {
        static NETWORK: OnceLock<Network> = OnceLock::new();
        NETWORK.get_or_init(|| Network::parse(WEIGHTS).expect("the bundled weights are valid"))
    }

    fn parse(text: &str) -> Result<Network, String> {
        let file: WeightsFile = serde_json::from_str(text).map_err(|error| error.to_string())?;
        let linear = |name: &str, inputs: usize, outputs: usize| -> Result<Linear, String> {
            let tensor = |suffix: &str, shape: &[usize]| -> Result<Vec<f64>, String> {
                let key = format!("{name}.{suffix}");
                let tensor = file
                    .tensors
                    .get(&key)
                    .ok_or_else(|| format!("no tensor `{key}`"))?;
                if tensor.shape != shape || tensor.values.len() != shape.iter().product::<usize>() {
                    return Err(format!("tensor `{key}` is not {shape:?}"));
                }
                // The file holds float32 values: read each as the float32 it names.
                Ok(tensor.values.iter().map(|v| *v as f32 as f64).collect())
            };
            Ok(Linear {
                inputs,
                outputs,
                weight: tensor("weight", &[outputs, inputs])?,
                bias: tensor("bias", &[outputs])?,
            })
        };
        let layers = (0..4)
            .map(|layer| {
                let (inputs, outputs) = (WIDTHS[layer], WIDTHS[layer + 1]);
                let name = |part: &str| format!("matrix_net.{layer}.{part}");
                Ok(GraphLayer {
                    own: linear(&name("linear_self"), inputs, inputs)?,
                    row: linear(&name("linear_row"), inputs, inputs)?,
                    column: linear(&name("linear_col"), inputs, inputs)?,
                    global: linear(&name("linear_global"), inputs, inputs)?,
                    combine: linear(&name("linear"), 4 * inputs, outputs)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Network {
            layers,
            classify: [
                linear("classify.0", 32, 32)?,
                linear("classify.2", 32, 32)?,
                linear("classify.4", 32, 1)?,
            ],
        })
    }

    /// The first `depth` layers on one row's votes (`signs`: +1 or -1, and their LFs), given
    /// each layer's mapped column and global means: the embeddings after layer `depth`,
    /// row-major (`signs.len()` x `WIDTHS[depth]`).
    fn embed(&self, lfs: &[usize], signs: &[f64], pooled: &[MappedPool], depth: usize) -> Vec<f64> {
        let mut embeddings = signs.to_vec();
        let entries = signs.len();
        for (layer, pool) in self.layers.iter().zip(pooled).take(depth) {
            let inputs = layer.own.inputs;
            let mut mean = vec![0.0; inputs];
            for embedding in embeddings.chunks_exact(inputs) {
                for (sum, value) in mean.iter_mut().zip(embedding) {
                    *sum += value;
                }
            }
            mean.iter_mut()
                .for_each(|sum| *sum /= entries as f64 + EPSILON);
            let row = layer.row.applied(&mean);
            let mut stacked = vec![0.0; 4 * inputs];
            let mut next = vec![0.0; entries * layer.combine.outputs];
            for ((embedding, lf), out) in embeddings
                .chunks_exact(inputs)
                .zip(lfs)
                .zip(next.chunks_exact_mut(layer.combine.outputs))
            {
                layer.own.apply(embedding, &mut stacked[..inputs]);
                stacked[inputs..2 * inputs].copy_from_slice(&row);
                stacked[2 * inputs..3 * inputs]
                    .copy_from_slice(&pool.columns[lf * inputs..(lf + 1) * inputs]);
                stacked[3 * inputs..].copy_from_slice(&pool.global);
                layer.combine.apply(&stacked, out);
                out.iter_mut().for_each(|value| *value = leaky_relu(*value));
            }
            embeddings = next;
        }
        embeddings
    }

    /// The perceptron on the mean of a row's final embeddings: `P(class)` before calibration.
    fn classify(&self, embeddings: &[f64]) -> f64 {
        let width = WIDTHS[4];
        let entries = embeddings.len() / width;
        let mut mean = vec![0.0; width];
        for embedding in embeddings.chunks_exact(width) {
            for (sum, value) in mean.iter_mut().zip(embedding) {
                *sum += value;
            }
        }
        mean.iter_mut()
            .for_each(|sum| *sum /= entries as f64 + EPSILON);
        let mut hidden = self.classify[0].applied(&mean);
        hidden.iter_mut().for_each(|x| *x = leaky_relu(*x));
        let mut hidden = self.classify[1].applied(&hidden);
        hidden.iter_mut().for_each(|x| *x = leaky_relu(*x));
        sigmoid(self.classify[2].applied(&hidden)[0])
    }
}

/// One layer's pooled embeddings over the training matrix, for one problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    /// Per LF, the mean embedding of its votes (zeros for an LF that never voted).
    pub columns: Vec<Vec<f64>>,
    /// The mean embedding of every vote.
    pub global: Vec<f64>,
}

/// One binary problem: the class whose votes are `+1`, and its pooled embeddings per layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The class.
    pub class: usize,
    /// Per graph layer, what it pooled over the training matrix.
    pub layers: Vec<Pooled>,
}

/// The extremes `hyperlm`'s calibration stretches: over the training matrix, the largest
/// probability above `1/k` and the smallest below it (`None` when there is none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The largest probability above `1/k`.
    pub above: Option<f64>,
    /// The smallest probability below `1/k`.
    pub below: Option<f64>,
}

/// A layer's pooled means through the layer's column and global maps (what a row's pass
/// adds), flattened per LF.
#[derive(Clone, Debug, Default)]
struct MappedPool {
    columns: Vec<f64>,
    global: Vec<f64>,
}

/// The fitted state of the Hyper Label Model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HyperParameters {
    /// `P(Y)` for a row no LF covered, and the prior the network's output is taken under
    /// (uniform unless replaced by [`FittedModel::with_class_balance`]).
    pub class_balance: Vec<f64>,
    /// One problem with two classes (class 1), one per class with more.
    pub problems: Vec<Problem>,
    /// See [`Calibration`].
    pub calibration: Calibration,
    #[serde(skip)]
    mapped: OnceLock<Vec<Vec<MappedPool>>>,
}

impl PartialEq for HyperParameters {
    fn eq(&self, other: &Self) -> bool {
        self.class_balance == other.class_balance
            && self.problems == other.problems
            && self.calibration == other.calibration
    }
}

/// Map each layer's pooled means through that layer's column and global maps.
fn mapped_pools(network: &Network, layers: &[Pooled]) -> Vec<MappedPool> {
    network
        .layers
        .iter()
        .zip(layers)
        .map(|(layer, pooled)| MappedPool {
            columns: pooled
                .columns
                .iter()
                .flat_map(|column| layer.column.applied(column))
                .collect(),
            global: layer.global.applied(&pooled.global),
        })
        .collect()
}

/// A row's votes as one problem's input: the LFs and `+1` (voted `class`) or `-1`.
fn signs(votes: &[Vote], class: usize) -> (Vec<usize>, Vec<f64>) {
    votes
        .iter()
        .map(|vote| {
            let sign = if vote.class() == class { 1.0 } else { -1.0 };
            (vote.lf(), sign)
        })
        .unzip()
}

impl HyperParameters {
    fn mapped(&self) -> &[Vec<MappedPool>] {
        self.mapped.get_or_init(|| {
            let network = Network::bundled();
            self.problems
                .iter()
                .map(|problem| mapped_pools(network, &problem.layers))
                .collect()
        })
    }

    /// Check a model file's state for `k` classes and `m` LFs: one problem per class (class 1
    /// alone with two), each with every layer's pooled means of the right widths, finite, and
    /// calibration extremes on their side of `1/k`. `Err` names the first field that is wrong.
    pub(crate) fn validate(&self, k: usize, m: usize) -> Result<(), String> {
        let classes: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
        let found: Vec<usize> = self.problems.iter().map(|problem| problem.class).collect();
        if found != classes {
            return Err(format!(
                "`parameters.problems` are for classes {found:?}, not {classes:?}"
            ));
        }
        let finite = |name: String, values: &[f64], width: usize| {
            if values.len() != width {
                return Err(format!(
                    "`{name}` has {} entries, not {width}",
                    values.len()
                ));
            }
            match values.iter().position(|value| !value.is_finite()) {
                Some(index) => Err(format!("`{name}[{index}]` is not a finite number")),
                None => Ok(()),
            }
        };
        for (index, problem) in self.problems.iter().enumerate() {
            let name = format!("parameters.problems[{index}].layers");
            if problem.layers.len() != WIDTHS.len() - 1 {
                return Err(format!(
                    "`{name}` has {} entries, not {}",
                    problem.layers.len(),
                    WIDTHS.len() - 1
                ));
            }
            for (layer, pooled) in problem.layers.iter().enumerate() {
                let width = WIDTHS[layer];
                if pooled.columns.len() != m {
                    return Err(format!(
                        "`{name}[{layer}].columns` has {} entries, not {m}",
                        pooled.columns.len()
                    ));
                }
                for (lf, column) in pooled.columns.iter().enumerate() {
                    finite(format!("{name}[{layer}].columns[{lf}]"), column, width)?;
                }
                finite(format!("{name}[{layer}].global"), &pooled.global, width)?;
            }
        }
        let tie = 1.0 / k as f64;
        match (self.calibration.above, self.calibration.below) {
            (Some(above), _) if !(above > tie && above <= 1.0) => Err(format!(
                "`parameters.calibration.above` is {above}, not in ({tie}, 1]"
            )),
            (_, Some(below)) if !(below >= 0.0 && below < tie) => Err(format!(
                "`parameters.calibration.below` is {below}, not in [0, {tie})"
            )),
            _ => Ok(()),
        }
    }

    /// The same state with another class balance.
    pub(crate) fn with_class_balance(&self, class_balance: Vec<f64>) -> Self {
        HyperParameters {
            class_balance,
            problems: self.problems.clone(),
            calibration: self.calibration.clone(),
            mapped: OnceLock::new(),
        }
    }

    /// The network's probabilities for one row, before calibration (`k` values).
    fn raw(&self, votes: &[Vote], out: &mut [f64]) {
        let network = Network::bundled();
        let depth = network.layers.len();
        let mapped = self.mapped();
        let mut outputs = self.problems.iter().zip(mapped).map(|(problem, pools)| {
            let (lfs, signs) = signs(votes, problem.class);
            network.classify(&network.embed(&lfs, &signs, pools, depth))
        });
        if out.len() == 2 {
            let p = outputs.next().unwrap_or(0.5);
            out.copy_from_slice(&[1.0 - p, p]);
        } else {
            for (out, p) in out.iter_mut().zip(outputs) {
                *out = p;
            }
            let total: f64 = out.iter().sum();
            out.iter_mut().for_each(|p| *p /= total);
        }
    }

    /// `hyperlm`'s calibration of one row's probabilities, in place.
    fn calibrate(&self, out: &mut [f64]) {
        let tie = 1.0 / out.len() as f64;
        for p in out.iter_mut() {
            if let Some(above) = self.calibration.above
                && *p > tie
            {
                *p = (*p - tie) * tie / (above - tie) + tie;
            } else if let Some(below) = self.calibration.below
                && *p < tie
            {
                *p = (*p - tie) * tie / (tie - below) + tie;
            }
            *p = p.clamp(0.0, 1.0);
        }
        let total: f64 = out.iter().sum();
        out.iter_mut().for_each(|p| *p /= total);
    }

    /// `P(Y | votes)`: the calibrated network output under the class balance (Bayes' rule from
    /// the uniform prior the network assumes); a row without votes gets the class balance.
    pub fn posterior(&self, votes: &[Vote], out: &mut [f64]) {
        if votes.is_empty() {
            out.copy_from_slice(&self.class_balance);
            return;
        }
        self.raw(votes, out);
        self.calibrate(out);
        let k = out.len() as f64;
        for (p, share) in out.iter_mut().zip(&self.class_balance) {
            *p *= share * k;
        }
        let total: f64 = out.iter().sum();
        out.iter_mut().for_each(|p| *p /= total);
    }
}

/// Per LF and its output width, the sums of layer `depth`'s embeddings over every vote of
/// `stats` (weighted by counts), the global sum, and the number of votes per LF and in all;
/// for one problem, given the pools of the layers before.
fn pool_layer(
    network: &Network,
    stats: &PatternCounts,
    class: usize,
    pools: &[MappedPool],
    depth: usize,
) -> Pooled {
    let width = WIDTHS[depth];
    let n_lfs = stats.n_lfs();
    let chunks = stats.len().div_ceil(PATTERN_CHUNK);
    let partial: Vec<(Vec<f64>, Vec<f64>)> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut columns = vec![0.0; n_lfs * width];
            let mut global = vec![0.0; width];
            for pattern in chunk * PATTERN_CHUNK..((chunk + 1) * PATTERN_CHUNK).min(stats.len()) {
                let count = stats.count(pattern) as f64;
                let (lfs, signs) = signs(stats.pattern(pattern), class);
                let embeddings = network.embed(&lfs, &signs, pools, depth);
                for (lf, embedding) in lfs.iter().zip(embeddings.chunks_exact(width)) {
                    let column = &mut columns[lf * width..(lf + 1) * width];
                    for ((sum, all), value) in column.iter_mut().zip(&mut global).zip(embedding) {
                        *sum += count * value;
                        *all += count * value;
                    }
                }
            }
            (columns, global)
        })
        .collect();
    // Chunk sums added in chunk order, whatever the thread count.
    let mut columns = vec![0.0; n_lfs * width];
    let mut global = vec![0.0; width];
    for (chunk_columns, chunk_global) in &partial {
        columns
            .iter_mut()
            .zip(chunk_columns)
            .for_each(|(sum, value)| *sum += value);
        global
            .iter_mut()
            .zip(chunk_global)
            .for_each(|(sum, value)| *sum += value);
    }
    let votes: Vec<f64> = stats
        .vote_counts()
        .iter()
        .map(|counts| counts.iter().sum::<u64>() as f64)
        .collect();
    let all: f64 = votes.iter().sum();
    Pooled {
        columns: columns
            .chunks_exact(width)
            .zip(&votes)
            .map(|(sums, votes)| sums.iter().map(|sum| sum / (votes + EPSILON)).collect())
            .collect(),
        global: global.iter().map(|sum| sum / all).collect(),
    }
}

/// Run the network over `stats` and keep what labelling new rows needs.
pub fn fit(stats: &PatternCounts, _options: &FitOptions) -> Result<FittedModel, FitError> {
    let network = Network::bundled();
    let k = stats.cardinality();
    if k < 2 {
        return Err(FitError::BadOption(
            "the hyper label model needs at least two classes".to_owned(),
        ));
    }
    let classes: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
    let problems = classes
        .into_iter()
        .map(|class| {
            let mut layers = Vec::with_capacity(network.layers.len());
            let mut pools = Vec::with_capacity(network.layers.len());
            for depth in 0..network.layers.len() {
                let pooled = pool_layer(network, stats, class, &pools, depth);
                pools = mapped_pools(network, &[layers.clone(), vec![pooled.clone()]].concat());
                layers.push(pooled);
            }
            Problem { class, layers }
        })
        .collect();
    let uniform = vec![1.0 / k as f64; k];
    let mut parameters = HyperParameters {
        class_balance: uniform.clone(),
        problems,
        calibration: Calibration {
            above: None,
            below: None,
        },
        mapped: OnceLock::new(),
    };
    let raw = raw_of_patterns(&parameters, stats);
    parameters.calibration = calibration_of(&raw, k, stats);
    let lf_accuracy = accuracies(&parameters, stats);
    let diagnostics = Diagnostics {
        iterations: 0,
        converged: true,
        objective: 0.0,
        warnings: Vec::new(),
        ..Diagnostics::default()
    };
    Ok(FittedModel::unnamed(
        Parameters::Hyper(parameters),
        uniform,
        lf_accuracy,
        diagnostics,
    ))
}

/// The network's uncalibrated probabilities of every pattern (row-major, `k` a pattern); an
/// all-abstain pattern gets the network's output on an empty row, as in `hyperlm`.
fn raw_of_patterns(parameters: &HyperParameters, stats: &PatternCounts) -> Vec<f64> {
    let k = stats.cardinality();
    let mut raw = vec![0.0; stats.len() * k];
    raw.par_chunks_mut(k * PATTERN_CHUNK)
        .enumerate()
        .for_each(|(chunk, block)| {
            for (offset, out) in block.chunks_exact_mut(k).enumerate() {
                parameters.raw(stats.pattern(chunk * PATTERN_CHUNK + offset), out);
            }
        });
    raw
}

/// `hyperlm`'s calibration extremes over every row of the training matrix.
fn calibration_of(raw: &[f64], k: usize, stats: &PatternCounts) -> Calibration {
    let tie = 1.0 / k as f64;
    let (mut above, mut below): (Option<f64>, Option<f64>) = (None, None);
    for (pattern, row) in raw.chunks_exact(k).enumerate() {
        if stats.count(pattern) == 0 {
            continue;
        }
        for &p in row {
            if p > tie {
                above = Some(above.map_or(p, |a| a.max(p)));
            } else if p < tie {
                below = Some(below.map_or(p, |b| b.min(p)));
            }
        }
    }
    Calibration { above, below }
}

/// Per LF, the mean probability of the class it voted over the training rows it voted on.
fn accuracies(parameters: &HyperParameters, stats: &PatternCounts) -> Vec<Option<f64>> {
    let k = stats.cardinality();
    let mut right = vec![0.0; stats.n_lfs()];
    let mut out = vec![0.0; k];
    for pattern in 0..stats.len() {
        let votes = stats.pattern(pattern);
        parameters.posterior(votes, &mut out);
        let count = stats.count(pattern) as f64;
        for vote in votes {
            right[vote.lf()] += count * out[vote.class()];
        }
    }
    stats
        .vote_counts()
        .iter()
        .zip(right)
        .map(|(counts, right)| {
            let votes = counts.iter().sum::<u64>();
            (votes > 0).then(|| right / votes as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled file holds every tensor of the network, 4,641 numbers in all.
    #[test]
    fn the_bundled_weights_are_complete() {
        let network = Network::bundled();
        let linears = network
            .layers
            .iter()
            .flat_map(|layer| {
                [
                    &layer.own,
                    &layer.row,
                    &layer.column,
                    &layer.global,
                    &layer.combine,
                ]
            })
            .chain(network.classify.iter());
        let count: usize = linears.map(|l| l.weight.len() + l.bias.len()).sum();
        assert_eq!(count, 4641);
    }

    /// A file missing a tensor, or with one of another shape, is refused by name.
    #[test]
    fn a_damaged_weights_file_is_refused() {
        let missing = WEIGHTS.replace("\"classify.4.bias\"", "\"classify.4.other\"");
        let error = Network::parse(&missing).unwrap_err();
        assert!(error.contains("classify.4.bias"), "{error}");
        let reshaped = WEIGHTS.replace("\"shape\":[1,32]", "\"shape\":[32,1]");
        let error = Network::parse(&reshaped).unwrap_err();
        assert!(error.contains("classify.4.weight"), "{error}");
    }
}
