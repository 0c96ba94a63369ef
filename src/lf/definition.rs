//! A checked declarative LF: the conditions a definition votes on, what each leaf reads and
//! tests. The TOML reader ([`super::declarative`]) makes them; the compiler
//! ([`super::program`]) turns them into one evaluation program.

use super::LfInfo;
use super::matcher::TextRule;
use super::preprocess::Step;
use super::simple::{Comparison, LengthUnit, ValueList};

/// What one condition reads: a column, through preprocessing steps (none for the raw column).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Source {
    pub column: String,
    pub steps: Vec<Step>,
}

/// The test a leaf condition makes on its source's value.
#[derive(Debug)]
pub(crate) enum Test {
    /// Keywords, a token lookup or a regex: fused with the other text tests of its source.
    Text(TextRule),
    Threshold(Comparison, f64),
    Length(LengthUnit, Comparison, f64),
    LookupValue(ValueList),
}

/// A checked leaf condition.
#[derive(Debug)]
pub(crate) struct Leaf {
    pub source: Source,
    pub test: Test,
    /// Equal keys mean equal conditions: the compiler evaluates them once per row.
    pub key: String,
}

/// A checked condition.
#[derive(Debug)]
pub(crate) enum Condition {
    Leaf(Leaf),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    /// Every leaf, depth first.
    pub(crate) fn leaves<'a>(&'a self, out: &mut Vec<&'a Leaf>) {
        match self {
            Condition::Leaf(leaf) => out.push(leaf),
            Condition::All(children) | Condition::Any(children) => {
                children.iter().for_each(|child| child.leaves(out))
            }
            Condition::Not(child) => child.leaves(out),
        }
    }
}

/// A checked declarative LF.
#[derive(Debug)]
pub(crate) struct Definition {
    pub info: LfInfo,
    pub class: i8,
    pub condition: Condition,
}
