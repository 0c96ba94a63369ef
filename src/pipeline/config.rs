//! The project file, `labelgen.toml`: data splits, LF sources, the label model, the end model,
//! output folder and seed. Unknown keys and wrong types are errors naming the key and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::ModelKind;

/// Errors reading the project file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read project file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or keys and types wrong.
    #[error("`{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line (from the TOML parser).
        message: String,
    },
}

/// `[project]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    /// A name for the project.
    pub name: String,
    /// Seed of every random choice (tie-breaks).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Where runs go, relative to the project file (default `runs`).
    #[serde(default = "default_output")]
    pub output: PathBuf,
}

fn default_seed() -> u64 {
    123
}

fn default_output() -> PathBuf {
    PathBuf::from("runs")
}

fn default_text() -> String {
    "text".to_owned()
}

/// A split with gold labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldSplit {
    /// The table.
    pub path: PathBuf,
    /// Its gold-label column (class ids or names).
    #[serde(default = "default_gold")]
    pub gold: String,
}

fn default_gold() -> String {
    "label".to_owned()
}

/// `[data]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// The unlabeled training table (any gold labels in it are not used).
    pub train: PathBuf,
    /// Development split with gold labels: model choice, analysis.
    pub dev: Option<GoldSplit>,
    /// Test split with gold labels: final scores.
    pub test: Option<GoldSplit>,
    /// The text column the end model learns from.
    #[serde(default = "default_text")]
    pub text_column: String,
    /// A column carried as the row key.
    pub id_column: Option<String>,
    /// LF column name -> data column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// `[lfs]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LfsSection {
    /// Declarative LF files.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Plugin crates (folders with a Cargo.toml), built with `cargo build --release`.
    #[serde(default)]
    pub plugins: Vec<PathBuf>,
}

/// `[label_model]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelModelSection {
    /// `generative`, `majority`, `dawid-skene`, `snorkel`, `hyper`, or `auto` (the best on dev
    /// gold).
    #[serde(default)]
    pub model: ModelChoice,
    /// L2 strength.
    pub l2: Option<f64>,
    /// Iteration limit.
    pub max_iterations: Option<usize>,
    /// Convergence tolerance.
    pub tolerance: Option<f64>,
    /// `auto` (the default), `uniform`, `estimated`, `dev` (the dev split's gold labels,
    /// add-one smoothed), or comma-separated probabilities.
    pub class_balance: Option<String>,
    /// The class balance labels are computed with, in place of the fitted one (the LF
    /// parameters stay): `uniform`, `dev` or comma-separated probabilities.
    pub label_class_balance: Option<String>,
}

/// The project file's label model: one kind, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ModelChoice {
    /// The best of majority vote, generative, Dawid-Skene and Snorkel on dev gold labels.
    Auto,
    /// One kind of model.
    Kind(ModelKind),
}

impl Default for ModelChoice {
    fn default() -> Self {
        ModelChoice::Kind(ModelKind::Generative)
    }
}

/// The names of [`ModelChoice`], as the project file writes them.
const MODEL_NAMES: [(&str, ModelChoice); 6] = [
    ("auto", ModelChoice::Auto),
    ("generative", ModelChoice::Kind(ModelKind::Generative)),
    ("majority", ModelChoice::Kind(ModelKind::Majority)),
    ("dawid-skene", ModelChoice::Kind(ModelKind::DawidSkene)),
    ("snorkel", ModelChoice::Kind(ModelKind::Snorkel)),
    ("hyper", ModelChoice::Kind(ModelKind::Hyper)),
];

impl ModelChoice {
    /// Its name in the project file.
    pub fn name(self) -> &'static str {
        MODEL_NAMES
            .iter()
            .find(|(_, choice)| *choice == self)
            .map_or("generative", |(name, _)| name)
    }
}

impl std::fmt::Display for ModelChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A label model name the project file does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "[label_model] model = \"{0}\": expected one of auto, generative, majority, dawid-skene, snorkel, hyper"
)]
pub struct UnknownModel(pub String);

impl std::str::FromStr for ModelChoice {
    type Err = UnknownModel;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MODEL_NAMES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, choice)| *choice)
            .ok_or_else(|| UnknownModel(text.to_owned()))
    }
}

impl TryFrom<String> for ModelChoice {
    type Error = UnknownModel;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<ModelChoice> for String {
    fn from(choice: ModelChoice) -> Self {
        choice.name().to_owned()
    }
}

/// `[end_model]`: a classifier trained on the probabilistic labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndModelSection {
    /// Word n-grams from 1 to this.
    #[serde(default = "default_word_ngrams")]
    pub word_ngrams: usize,
    /// Character n-gram lengths `[min, max]`, `true` for the default ones (4 only), or
    /// `false` for none.
    #[serde(default = "default_char_ngrams")]
    pub char_ngrams: CharNgramsSetting,
    /// Feature buckets: 2^hash_bits.
    #[serde(default = "default_hash_bits")]
    pub hash_bits: u32,
    /// L2 strength (default 1/n).
    pub l2: Option<f64>,
    /// L-BFGS iteration limit.
    #[serde(default = "default_iterations")]
    pub max_iterations: u64,
    /// Train on one-hot labels.
    #[serde(default)]
    pub hard: bool,
    /// Keep rows no LF covered.
    #[serde(default)]
    pub include_uncovered: bool,
    /// `balanced`, or one weight per class.
    pub class_weight: Option<ClassWeightSetting>,
}

impl EndModelSection {
    /// The end model's training options these settings give.
    pub fn train_options(&self) -> crate::endmodel::TrainOptions {
        use crate::endmodel::{ClassWeights, TrainOptions, features::FeatureConfig};
        TrainOptions {
            features: FeatureConfig {
                hash_bits: self.hash_bits,
                word_ngrams: self.word_ngrams,
                char_ngrams: self.char_ngrams.lengths(),
                sublinear_tf: true,
            },
            l2: self.l2,
            max_iterations: self.max_iterations,
            class_weights: match &self.class_weight {
                None => ClassWeights::None,
                // The only name, checked when the project is read.
                Some(ClassWeightSetting::Named(_)) => ClassWeights::Balanced,
                Some(ClassWeightSetting::Weights(weights)) => ClassWeights::Given(weights.clone()),
            },
            ..TrainOptions::default()
        }
    }
}

/// Character n-grams as written in the project file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "`[min, max]` (character n-gram lengths), `true` (the default lengths) or `false` (none)"
)]
pub enum CharNgramsSetting {
    /// `true`: the default lengths; `false`: none.
    Enabled(bool),
    /// `[min, max]`.
    Lengths([usize; 2]),
}

impl CharNgramsSetting {
    /// The lengths to use, if any.
    pub fn lengths(&self) -> Option<(usize, usize)> {
        match self {
            CharNgramsSetting::Enabled(true) => {
                crate::endmodel::features::FeatureConfig::default().char_ngrams
            }
            CharNgramsSetting::Enabled(false) => None,
            CharNgramsSetting::Lengths([low, high]) => Some((*low, *high)),
        }
    }
}

fn default_char_ngrams() -> CharNgramsSetting {
    CharNgramsSetting::Enabled(true)
}

/// Class weights as written in the project file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassWeightSetting {
    /// `"balanced"`.
    Named(String),
    /// One weight per class.
    Weights(Vec<f64>),
}

fn default_word_ngrams() -> usize {
    2
}

fn default_hash_bits() -> u32 {
    18
}

fn default_iterations() -> u64 {
    crate::endmodel::TrainOptions::default().max_iterations
}

/// The whole project file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// `[project]`.
    pub project: ProjectSection,
    /// `[data]`.
    pub data: DataSection,
    /// `[lfs]`.
    #[serde(default)]
    pub lfs: LfsSection,
    /// `[label_model]`.
    #[serde(default)]
    pub label_model: LabelModelSection,
    /// `[end_model]`, if the pipeline trains one.
    pub end_model: Option<EndModelSection>,
}

/// A project: its file, folder and settings (paths resolved against the folder).
#[derive(Clone, Debug)]
pub struct Project {
    /// The project file.
    pub file: PathBuf,
    /// Its folder.
    pub root: PathBuf,
    /// The settings, paths relative to `root` as written.
    pub settings: ProjectFile,
}

impl Project {
    /// Read and check the project file at `path`.
    pub fn read(path: &Path) -> Result<Project, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Project::parse(path, &text)
    }

    /// Check `text`, the content of the project file at `path` (paths in it are relative to
    /// that file's folder).
    pub fn parse(path: &Path, text: &str) -> Result<Project, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let settings: ProjectFile =
            toml::from_str(text).map_err(|error| invalid(error.to_string().trim().to_owned()))?;
        if settings.label_model.model == ModelChoice::Auto && settings.data.dev.is_none() {
            return Err(invalid(
                "[label_model] model = \"auto\" picks the best model on dev gold labels: add [data.dev]".to_owned(),
            ));
        }
        if settings.label_model.class_balance.as_deref() == Some("dev")
            && settings.data.dev.is_none()
        {
            return Err(invalid(
                "[label_model] class_balance = \"dev\" takes the balance of the dev split's gold labels: add [data.dev]".to_owned(),
            ));
        }
        if let Some(balance) = &settings.label_model.label_class_balance {
            if balance == "dev" && settings.data.dev.is_none() {
                return Err(invalid(
                    "[label_model] label_class_balance = \"dev\" takes the balance of the dev split's gold labels: add [data.dev]".to_owned(),
                ));
            }
            if balance == "estimated" || balance == "auto" {
                return Err(invalid(format!(
                    "[label_model] label_class_balance = \"{balance}\": only a fit estimates or tests a balance; use class_balance = \"{balance}\", or give uniform, dev or numbers"
                )));
            }
            if settings.label_model.model == ModelChoice::Kind(ModelKind::Majority) {
                return Err(invalid(
                    "[label_model] label_class_balance: majority vote has no class prior to replace; remove the key or pick another model".to_owned(),
                ));
            }
        }
        if settings.lfs.files.is_empty() && settings.lfs.plugins.is_empty() {
            return Err(invalid(
                "[lfs] lists no LF files and no plugin crates".to_owned(),
            ));
        }
        if let Some(ClassWeightSetting::Named(name)) = settings
            .end_model
            .as_ref()
            .and_then(|end| end.class_weight.as_ref())
            && name != "balanced"
        {
            return Err(invalid(format!(
                "[end_model] class_weight = \"{name}\": expected \"balanced\" or a list of numbers"
            )));
        }
        if let Some(CharNgramsSetting::Lengths([low, high])) =
            settings.end_model.as_ref().map(|end| &end.char_ngrams)
            && (*low == 0 || low > high)
        {
            return Err(invalid(format!(
                "[end_model] char_ngrams = [{low}, {high}]: need 1 <= min <= max"
            )));
        }
        let root = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        Ok(Project {
            file: path.to_owned(),
            root,
            settings,
        })
    }

    /// `relative` resolved against the project folder.
    pub fn path(&self, relative: &Path) -> PathBuf {
        self.root.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Project, ConfigError> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("labelgen.toml");
        std::fs::write(&path, text).unwrap();
        Project::read(&path)
    }

    const MINIMAL: &str =
        "[project]\nname = \"p\"\n[data]\ntrain = \"t.csv\"\n[lfs]\nfiles = [\"l.toml\"]\n";

    #[test]
    fn defaults_fill_in() {
        let project = read(MINIMAL).unwrap();
        assert_eq!(project.settings.project.seed, 123);
        assert_eq!(
            project.settings.label_model.model,
            ModelChoice::Kind(ModelKind::Generative)
        );
        assert_eq!(project.settings.data.text_column, "text");
        assert!(project.settings.end_model.is_none());
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_key_and_line() {
        let error = read(&format!("{MINIMAL}[label_model]\nmodle = \"x\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 8") && error.contains("unknown field `modle`"),
            "{error}"
        );
        let error = read(&MINIMAL.replace("name = \"p\"", "name = \"p\"\nseed = \"x\""))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 3") && error.contains("seed"),
            "{error}"
        );
        let error = read(&format!("{MINIMAL}[label_model]\nmodel = \"best\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("model = \"best\": expected one of auto"),
            "{error}"
        );
        let error = read(&format!("{MINIMAL}[label_model]\nmodel = \"auto\"\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("add [data.dev]"), "{error}");
        let error = read(&format!(
            "{MINIMAL}[label_model]\nclass_balance = \"dev\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("class_balance = \"dev\"") && error.contains("add [data.dev]"),
            "{error}"
        );
        let label_balance = |extra: &str| {
            read(&format!("{MINIMAL}[label_model]\n{extra}"))
                .unwrap_err()
                .to_string()
        };
        let error = label_balance("label_class_balance = \"dev\"\n");
        assert!(
            error.contains("label_class_balance = \"dev\"") && error.contains("add [data.dev]"),
            "{error}"
        );
        for balance in ["estimated", "auto"] {
            let error = label_balance(&format!("label_class_balance = \"{balance}\"\n"));
            assert!(
                error.contains(&format!(
                    "label_class_balance = \"{balance}\": only a fit estimates or tests"
                )),
                "{error}"
            );
        }
        let error = label_balance("model = \"majority\"\nlabel_class_balance = \"uniform\"\n");
        assert!(
            error.contains("majority vote has no class prior"),
            "{error}"
        );
    }

    #[test]
    fn character_ngrams_default_on_and_can_be_set_or_turned_off() {
        let lengths = |end_model: &str| {
            read(&format!("{MINIMAL}[end_model]\n{end_model}"))
                .map(|project| project.settings.end_model.unwrap().char_ngrams.lengths())
        };
        assert_eq!(lengths("").unwrap(), Some((4, 4)));
        assert_eq!(lengths("char_ngrams = true\n").unwrap(), Some((4, 4)));
        assert_eq!(lengths("char_ngrams = false\n").unwrap(), None);
        assert_eq!(lengths("char_ngrams = [3, 5]\n").unwrap(), Some((3, 5)));
        let error = lengths("char_ngrams = [5, 3]\n").unwrap_err().to_string();
        assert!(error.contains("need 1 <= min <= max"), "{error}");
        let error = lengths("char_ngrams = \"x\"\n").unwrap_err().to_string();
        assert!(
            error.contains("line 8") && error.contains("`[min, max]`"),
            "{error}"
        );
    }
}
