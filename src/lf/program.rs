//! Declarative LFs compiled together into one evaluator.
//!
//! Every LF's condition is a tree of `all` / `any` / `not` over leaf conditions ("atoms"). Equal
//! atoms are shared by all LFs. Per source (a column, or a view of it through preprocessing
//! steps), every keyword and token-lookup atom, and every regex atom that some LF always
//! evaluates, is fused into one [`FusedMatcher`]: one pass over the value answers all of them,
//! whatever the number of LFs. Other atoms (lengths, thresholds, whole-value lookups, regexes
//! behind a short circuit) are tested on their own.
//!
//! Rows are evaluated one at a time, LFs in order, with short-circuit evaluation. Everything is
//! computed lazily and at most once per row: a view when an atom reading it is first needed, a
//! fused pass when one of its atoms is, an atom when an LF's evaluation reaches it. So a view or
//! a regex behind `all = [cheap, expensive]` costs nothing on rows where `cheap` is false, and a
//! simple LF costs what it did before composites existed.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

use super::definition::{Condition, Definition, Leaf, Source, Test};
use super::matcher::{FusedMatcher, Scratch, TextRule};
use super::preprocess::Preprocessor;
use super::simple::{Comparison, LengthUnit, ValueList, length_holds};
use super::{Chunk, EvalError, Evaluator, VoteSink};
use crate::table::{Column, ColumnType};

/// A source of text: an input column, raw or through a preprocessor.
struct View {
    input: usize,
    preprocessor: Option<Preprocessor>,
}

/// One fused pass: a matcher over one view and the atom of each of its rules.
struct Pass {
    view: usize,
    matcher: FusedMatcher,
    atoms: Vec<usize>,
}

/// A leaf condition, compiled.
enum Atom {
    /// Answered by a fused pass.
    Fused(usize),
    /// A regex tested on its own, when reached.
    Regex(usize, Regex),
    Length(usize, LengthUnit, Comparison, f64),
    Threshold(usize, Comparison, f64),
    Lookup(usize, ValueList),
}

enum Expr {
    Atom(usize),
    All(Vec<Expr>),
    Any(Vec<Expr>),
    Not(Box<Expr>),
}

struct CompiledLf {
    expr: Expr,
    class: i8,
    /// The inputs it reads: it abstains when one of them is missing on a row.
    inputs: Vec<usize>,
}

/// Every declarative LF of a run.
pub(crate) struct Program {
    inputs: Vec<(String, ColumnType)>,
    views: Vec<View>,
    passes: Vec<Pass>,
    atoms: Vec<Atom>,
    lfs: Vec<CompiledLf>,
    /// Per atom, the (output, class) of each LF whose whole condition it is: these vote as
    /// soon as the atom is known, with no per-LF work on rows where it is false.
    direct: Vec<Vec<(usize, i8)>>,
    /// The input each atom reads.
    atom_inputs: Vec<usize>,
    /// Passes and other atoms with direct LFs: evaluated on every row.
    eager_passes: Vec<usize>,
    eager_atoms: Vec<usize>,
    /// The LFs that are not one atom, in output order.
    composite: Vec<usize>,
    /// No composite LF and no preprocessed view: nothing is shared between passes and atoms,
    /// so each is evaluated over the chunk on its own, column by column (see `evaluate`).
    simple: bool,
}

/// An atom while compiling: text rules wait until every LF is seen to learn whether they are
/// always evaluated (fused) or only sometimes (tested alone when reached).
enum Draft<'a> {
    Text(usize, &'a TextRule),
    Ready(Atom),
}

struct Builder<'a> {
    inputs: Vec<(String, ColumnType)>,
    views: Vec<View>,
    view_ids: HashMap<(usize, &'a Source), usize>,
    drafts: Vec<Draft<'a>>,
    atom_inputs: Vec<usize>,
    atom_ids: HashMap<&'a str, usize>,
    /// Atoms that some LF evaluates on every row.
    always: Vec<bool>,
}

impl<'a> Builder<'a> {
    fn input(&mut self, column: &str, column_type: ColumnType) -> usize {
        let wanted = (column.to_owned(), column_type);
        match self.inputs.iter().position(|known| *known == wanted) {
            Some(index) => index,
            None => {
                self.inputs.push(wanted);
                self.inputs.len() - 1
            }
        }
    }

    fn view(&mut self, source: &'a Source) -> usize {
        let input = self.input(&source.column, ColumnType::Text);
        if let Some(id) = self.view_ids.get(&(input, source)) {
            return *id;
        }
        self.views.push(View {
            input,
            preprocessor: (!source.steps.is_empty()).then(|| Preprocessor {
                steps: source.steps.clone(),
            }),
        });
        self.view_ids.insert((input, source), self.views.len() - 1);
        self.views.len() - 1
    }

    fn atom(&mut self, leaf: &'a Leaf) -> usize {
        if let Some(id) = self.atom_ids.get(leaf.key.as_str()) {
            return *id;
        }
        let draft = match &leaf.test {
            Test::Text(rule) => Draft::Text(self.view(&leaf.source), rule),
            Test::Length(unit, op, value) => {
                Draft::Ready(Atom::Length(self.view(&leaf.source), *unit, *op, *value))
            }
            Test::LookupValue(list) => {
                Draft::Ready(Atom::Lookup(self.view(&leaf.source), list.clone()))
            }
            Test::Threshold(op, value) => Draft::Ready(Atom::Threshold(
                self.input(&leaf.source.column, ColumnType::Float),
                *op,
                *value,
            )),
        };
        let column_type = match leaf.test {
            Test::Threshold(..) => ColumnType::Float,
            _ => ColumnType::Text,
        };
        let input = self.input(&leaf.source.column, column_type);
        self.drafts.push(draft);
        self.atom_inputs.push(input);
        self.always.push(false);
        self.atom_ids.insert(&leaf.key, self.drafts.len() - 1);
        self.drafts.len() - 1
    }

    fn expr(&mut self, condition: &'a Condition, inputs: &mut Vec<usize>) -> Expr {
        let mut children = |conditions: &'a [Condition], inputs: &mut Vec<usize>| {
            conditions
                .iter()
                .map(|condition| self.expr(condition, inputs))
                .collect()
        };
        match condition {
            Condition::Leaf(leaf) => {
                let atom = self.atom(leaf);
                let column_type = match leaf.test {
                    Test::Threshold(..) => ColumnType::Float,
                    _ => ColumnType::Text,
                };
                let input = self.input(&leaf.source.column, column_type);
                if !inputs.contains(&input) {
                    inputs.push(input);
                }
                Expr::Atom(atom)
            }
            Condition::All(conditions) => Expr::All(children(conditions, inputs)),
            Condition::Any(conditions) => Expr::Any(children(conditions, inputs)),
            Condition::Not(condition) => Expr::Not(Box::new(self.expr(condition, inputs))),
        }
    }
}

/// The atom an expression evaluates first, on every row.
fn first_atom(expr: &Expr) -> usize {
    match expr {
        Expr::Atom(atom) => *atom,
        Expr::All(children) | Expr::Any(children) => first_atom(&children[0]),
        Expr::Not(child) => first_atom(child),
    }
}

impl Program {
    /// Compile `definitions`; LF `i` writes the evaluator's output `i`.
    pub fn new(definitions: &[&Definition]) -> Result<Program, String> {
        let mut builder = Builder {
            inputs: Vec::new(),
            views: Vec::new(),
            view_ids: HashMap::new(),
            drafts: Vec::new(),
            atom_inputs: Vec::new(),
            atom_ids: HashMap::new(),
            always: Vec::new(),
        };
        let mut lfs = Vec::with_capacity(definitions.len());
        for definition in definitions {
            let mut inputs = Vec::new();
            let expr = builder.expr(&definition.condition, &mut inputs);
            builder.always[first_atom(&expr)] = true;
            lfs.push(CompiledLf {
                expr,
                class: definition.class,
                inputs,
            });
        }
        let Builder {
            inputs,
            views,
            drafts,
            atom_inputs,
            always,
            ..
        } = builder;
        // Per view, the rules of one fused pass and their atoms.
        let mut fused: Vec<(usize, Vec<&TextRule>, Vec<usize>)> = Vec::new();
        let mut atoms = Vec::with_capacity(drafts.len());
        for (id, draft) in drafts.into_iter().enumerate() {
            let atom = match draft {
                Draft::Ready(atom) => atom,
                Draft::Text(view, rule) => {
                    let lazy_regex = matches!(rule, TextRule::Regex { .. }) && !always[id];
                    if let (
                        true,
                        TextRule::Regex {
                            pattern,
                            case_sensitive,
                        },
                    ) = (lazy_regex, rule)
                    {
                        let regex = RegexBuilder::new(pattern)
                            .case_insensitive(!case_sensitive)
                            .build()
                            .map_err(|error| error.to_string())?;
                        Atom::Regex(view, regex)
                    } else {
                        let pass = match fused.iter().position(|(known, _, _)| *known == view) {
                            Some(pass) => pass,
                            None => {
                                fused.push((view, Vec::new(), Vec::new()));
                                fused.len() - 1
                            }
                        };
                        fused[pass].1.push(rule);
                        fused[pass].2.push(id);
                        Atom::Fused(pass)
                    }
                }
            };
            atoms.push(atom);
        }
        let passes = fused
            .into_iter()
            .map(|(view, rules, atoms)| {
                Ok(Pass {
                    view,
                    matcher: FusedMatcher::new(&rules)?,
                    atoms,
                })
            })
            .collect::<Result<_, String>>()?;
        let mut direct = vec![Vec::new(); atoms.len()];
        let mut composite = Vec::new();
        for (output, lf) in lfs.iter().enumerate() {
            match lf.expr {
                Expr::Atom(atom) => direct[atom].push((output, lf.class)),
                _ => composite.push(output),
            }
        }
        let mut eager_passes = Vec::new();
        let mut eager_atoms = Vec::new();
        for (atom, kind) in atoms.iter().enumerate() {
            match kind {
                _ if direct[atom].is_empty() => {}
                Atom::Fused(pass) if !eager_passes.contains(pass) => eager_passes.push(*pass),
                Atom::Fused(_) => {}
                _ => eager_atoms.push(atom),
            }
        }
        let simple = composite.is_empty() && views.iter().all(|view| view.preprocessor.is_none());
        Ok(Program {
            simple,
            inputs,
            views,
            passes,
            atoms,
            lfs,
            direct,
            atom_inputs,
            eager_passes,
            eager_atoms,
            composite,
        })
    }
}

/// What is known on the current row. An atom's or view's value is current when its epoch is
/// the row's: moving to the next row forgets everything at no cost.
struct RowState {
    epoch: u32,
    valid: Vec<bool>,
    atom_epoch: Vec<u32>,
    atom_value: Vec<bool>,
    view_epoch: Vec<u32>,
    view_text: Vec<String>,
    spare: String,
    scratch: Scratch,
}

/// The columns of a chunk and the row being evaluated.
#[derive(Clone, Copy)]
struct At<'c> {
    columns: &'c [&'c Column],
    row: usize,
}

impl Program {
    fn row_state(&self) -> RowState {
        RowState {
            epoch: 0,
            valid: vec![false; self.inputs.len()],
            atom_epoch: vec![0; self.atoms.len()],
            atom_value: vec![false; self.atoms.len()],
            view_epoch: vec![0; self.views.len()],
            view_text: vec![String::new(); self.views.len()],
            spare: String::new(),
            scratch: Scratch::default(),
        }
    }

    fn holds(&self, expr: &Expr, at: At<'_>, state: &mut RowState) -> bool {
        match expr {
            Expr::Atom(atom) => self.atom(*atom, at, state),
            Expr::All(children) => children.iter().all(|child| self.holds(child, at, state)),
            Expr::Any(children) => children.iter().any(|child| self.holds(child, at, state)),
            Expr::Not(child) => !self.holds(child, at, state),
        }
    }

    /// The atom's value on this row: known already (most LFs of a fused pass), or computed.
    #[inline(always)]
    fn atom(&self, atom: usize, at: At<'_>, state: &mut RowState) -> bool {
        if state.atom_epoch[atom] == state.epoch {
            state.atom_value[atom]
        } else {
            self.compute(atom, at, state)
        }
    }

    fn compute(&self, atom: usize, at: At<'_>, state: &mut RowState) -> bool {
        let value = match &self.atoms[atom] {
            Atom::Fused(pass) => {
                self.run_pass(&self.passes[*pass], at, state);
                return state.atom_value[atom];
            }
            Atom::Regex(view, regex) => {
                let text = self.view(*view, at, state);
                regex.is_match(text.get(&state.view_text))
            }
            Atom::Length(view, unit, op, value) => {
                let text = self.view(*view, at, state);
                length_holds(text.get(&state.view_text), *unit, *op, *value)
            }
            Atom::Lookup(view, list) => {
                let text = self.view(*view, at, state);
                list.contains(text.get(&state.view_text))
            }
            Atom::Threshold(input, op, value) => at.columns[*input]
                .number(at.row)
                .is_some_and(|number| op.holds(number, *value)),
        };
        state.atom_epoch[atom] = state.epoch;
        state.atom_value[atom] = value;
        value
    }

    /// Run a fused pass: every atom of it becomes known on this row.
    fn run_pass(&self, pass: &Pass, at: At<'_>, state: &mut RowState) {
        let text = self.view(pass.view, at, state);
        let RowState {
            epoch,
            atom_epoch,
            atom_value,
            view_text,
            scratch,
            ..
        } = state;
        for id in &pass.atoms {
            atom_epoch[*id] = *epoch;
            atom_value[*id] = false;
        }
        pass.matcher.matches(text.get(view_text), scratch, |rule| {
            atom_value[pass.atoms[rule]] = true
        });
    }

    /// The view's text on this row, computed on first use.
    #[inline(always)]
    fn view<'c>(&self, view: usize, at: At<'c>, state: &mut RowState) -> ViewText<'c> {
        let spec = &self.views[view];
        let raw = at.columns[spec.input].text(at.row).unwrap_or_default();
        match &spec.preprocessor {
            None => ViewText::Raw(raw),
            Some(preprocessor) => {
                if state.view_epoch[view] != state.epoch {
                    preprocessor.apply(raw, &mut state.view_text[view], &mut state.spare);
                    state.view_epoch[view] = state.epoch;
                }
                ViewText::Cached(view)
            }
        }
    }
}

/// A view's text: the column's own, or a buffer of the row state.
#[derive(Clone, Copy)]
enum ViewText<'c> {
    Raw(&'c str),
    Cached(usize),
}

impl<'c> ViewText<'c> {
    fn get<'s>(self, cache: &'s [String]) -> &'s str
    where
        'c: 's,
    {
        match self {
            ViewText::Raw(text) => text,
            ViewText::Cached(view) => &cache[view],
        }
    }
}

impl Program {
    /// Every LF is one atom on a raw column: each fused pass and each other atom runs over the
    /// chunk in its own tight loop and votes at once, as the one-LF evaluators did before
    /// composites existed. Same votes as the row-by-row path (a test checks).
    fn evaluate_simple(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) {
        let mut scratch = Scratch::default();
        for pass in &self.eager_passes {
            let pass = &self.passes[*pass];
            let column = chunk.columns[self.views[pass.view].input];
            for row in 0..chunk.len {
                if let Some(text) = column.text(chunk.start + row) {
                    pass.matcher.matches(text, &mut scratch, |rule| {
                        for (output, class) in &self.direct[pass.atoms[rule]] {
                            sink.set(row, *output, *class);
                        }
                    });
                }
            }
        }
        for atom in &self.eager_atoms {
            let column = chunk.columns[self.atom_inputs[*atom]];
            for row in 0..chunk.len {
                let at = chunk.start + row;
                let holds = match &self.atoms[*atom] {
                    Atom::Fused(_) => unreachable!("fused atoms vote through their pass"),
                    Atom::Threshold(_, op, value) => column
                        .number(at)
                        .is_some_and(|number| op.holds(number, *value)),
                    Atom::Regex(_, regex) => {
                        column.text(at).is_some_and(|text| regex.is_match(text))
                    }
                    Atom::Length(_, unit, op, value) => column
                        .text(at)
                        .is_some_and(|text| length_holds(text, *unit, *op, *value)),
                    Atom::Lookup(_, list) => {
                        column.text(at).is_some_and(|text| list.contains(text))
                    }
                };
                if holds {
                    for (output, class) in &self.direct[*atom] {
                        sink.set(row, *output, *class);
                    }
                }
            }
        }
    }
}

impl Evaluator for Program {
    fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError> {
        if self.simple {
            self.evaluate_simple(chunk, sink);
            return Ok(());
        }
        let mut state = self.row_state();
        // Columns without a validity bitmap (the common case) need no check per row.
        let nullable: Vec<usize> = (0..self.inputs.len())
            .filter(|input| chunk.columns[*input].validity().is_some())
            .collect();
        state.valid.fill(true);
        for row in 0..chunk.len {
            let at = At {
                columns: &chunk.columns,
                row: chunk.start + row,
            };
            state.epoch += 1;
            for input in &nullable {
                state.valid[*input] = chunk.columns[*input].is_valid(at.row);
            }
            for pass in &self.eager_passes {
                let pass = &self.passes[*pass];
                if !state.valid[self.views[pass.view].input] {
                    continue;
                }
                self.run_pass(pass, at, &mut state);
                for atom in &pass.atoms {
                    if state.atom_value[*atom] {
                        for (output, class) in &self.direct[*atom] {
                            sink.set(row, *output, *class);
                        }
                    }
                }
            }
            for atom in &self.eager_atoms {
                if state.valid[self.atom_inputs[*atom]] && self.atom(*atom, at, &mut state) {
                    for (output, class) in &self.direct[*atom] {
                        sink.set(row, *output, *class);
                    }
                }
            }
            for output in &self.composite {
                let lf = &self.lfs[*output];
                if (nullable.is_empty() || lf.inputs.iter().all(|input| state.valid[*input]))
                    && self.holds(&lf.expr, at, &mut state)
                {
                    sink.set(row, *output, lf.class);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::lf::declarative::LfFile;
    use crate::table::ColumnBuilder;

    fn program(lfs: &str) -> Program {
        let text = format!(
            "classes = [\"HAM\", \"SPAM\"]\n[views.clean]\ncolumn = \"text\"\nsteps = [\"decode_html\", \"lowercase\"]\n{lfs}"
        );
        let file = LfFile::parse(Path::new("test.toml"), &text).unwrap();
        let definitions: Vec<&Definition> = file.definitions.iter().collect();
        Program::new(&definitions).unwrap()
    }

    fn column(texts: &[&str]) -> Column {
        let mut builder = ColumnBuilder::new(ColumnType::Text, texts.len());
        texts.iter().for_each(|text| builder.push_text(text));
        builder.finish()
    }

    #[test]
    fn equal_conditions_are_one_atom_and_one_pass() {
        let program = program(
            r#"
            [[lf]]
            name = "a"
            kind = "keyword"
            column = "text"
            keywords = ["free"]
            label = "SPAM"
            [[lf]]
            name = "b"
            kind = "all"
            column = "text"
            conditions = [{ kind = "keyword", keywords = ["free"] }, { kind = "regex", pattern = "x" }]
            label = "SPAM"
            [[lf]]
            name = "c"
            kind = "regex"
            column = "text"
            pattern = "y"
            label = "HAM"
            "#,
        );
        assert_eq!(program.atoms.len(), 3, "`free` is shared");
        assert_eq!(program.passes.len(), 1);
        // `x` is reached only when `free` holds: tested alone; `y` is always tested: fused.
        assert!(matches!(program.atoms[1], Atom::Regex(..)));
        assert!(matches!(program.atoms[2], Atom::Fused(0)));
        assert_eq!(program.passes[0].atoms, [0, 2]);
    }

    #[test]
    fn views_and_later_conditions_wait_for_a_short_circuit() {
        let program = program(
            r#"
            [[lf]]
            name = "short_and_im"
            kind = "all"
            conditions = [
              { kind = "length", column = "text", op = "<", value = 3 },
              { kind = "keyword", view = "clean", keywords = ["i'm"] },
            ]
            label = "SPAM"
            "#,
        );
        let texts = column(&["I&#39;m a long comment here", "I&#39;m here", "hello"]);
        let columns = [&texts];
        let mut state = program.row_state();
        let mut computed = Vec::new();
        for row in 0..3 {
            state.epoch += 1;
            let at = At {
                columns: &columns,
                row,
            };
            let holds = program.holds(&program.lfs[0].expr, at, &mut state);
            let view_computed = state.view_epoch.contains(&state.epoch);
            computed.push((holds, view_computed));
        }
        assert_eq!(computed, [(false, false), (true, true), (false, true)]);
    }

    #[test]
    fn an_lf_abstains_where_a_column_it_reads_is_missing() {
        let program = program(
            r#"
            [[lf]]
            name = "no_free"
            kind = "not"
            condition = { kind = "keyword", column = "text", keywords = ["free"] }
            label = "HAM"
            [[lf]]
            name = "free_or_high"
            kind = "any"
            conditions = [
              { kind = "keyword", column = "text", keywords = ["free"] },
              { kind = "threshold", column = "score", op = ">", value = 0.5 },
            ]
            label = "SPAM"
            "#,
        );
        let mut texts = ColumnBuilder::new(ColumnType::Text, 3);
        texts.push_text("free stuff");
        texts.push_null();
        texts.push_text("hello");
        let mut scores = ColumnBuilder::new(ColumnType::Float, 3);
        scores.push_null();
        scores.push_float(0.9);
        scores.push_float(0.9);
        let (texts, scores) = (texts.finish(), scores.finish());
        assert_eq!(program.inputs[0].0, "text");
        let chunk = Chunk {
            columns: vec![&texts, &scores],
            start: 0,
            len: 3,
            first_row: 0,
        };
        let mut votes = vec![-1i8; 6];
        let mut sink = VoteSink {
            votes: &mut votes,
            stride: 2,
            outputs: &[0, 1],
        };
        program.evaluate(&chunk, &mut sink).unwrap();
        // Row 0 lacks a score, row 1 a text: only row 2 has both columns for `free_or_high`.
        assert_eq!(votes, [-1, -1, -1, -1, 0, 1]);
    }

    /// Votes of `program` on `columns`, one row after another.
    fn votes(program: &Program, columns: Vec<&Column>) -> Vec<i8> {
        let len = columns[0].len();
        let outputs: Vec<usize> = (0..program.lfs.len()).collect();
        let mut votes = vec![-1i8; len * outputs.len()];
        let mut sink = VoteSink {
            votes: &mut votes,
            stride: outputs.len(),
            outputs: &outputs,
        };
        let chunk = Chunk {
            columns,
            start: 0,
            len,
            first_row: 0,
        };
        program.evaluate(&chunk, &mut sink).unwrap();
        votes
    }

    #[test]
    fn the_column_by_column_path_votes_as_the_row_by_row_path() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let tutorial =
            std::fs::read_to_string(root.join("labeling_functions/youtube_spam.toml")).unwrap();
        let extra = r#"
            [[lf]]
            name = "exact_comment"
            kind = "lookup"
            column = "text"
            values = ["check out my channel", "2 billions in 2014"]
            label = "SPAM"
            [[lf]]
            name = "caps_PSY"
            kind = "regex"
            column = "text"
            pattern = "PSY"
            label = "HAM"
            "#;
        let file = LfFile::parse(Path::new("t.toml"), &format!("{tutorial}{extra}")).unwrap();
        let definitions: Vec<&Definition> = file.definitions.iter().collect();
        let simple = Program::new(&definitions).unwrap();
        let mut general = Program::new(&definitions).unwrap();
        assert!(simple.simple);
        general.simple = false;
        let mut reader =
            csv::Reader::from_path(root.join("datasets/youtube/raw/Youtube01-Psy.csv")).unwrap();
        let mut builder = ColumnBuilder::new(ColumnType::Text, 400);
        for (index, record) in reader.records().enumerate() {
            match index % 50 {
                7 => builder.push_null(),
                _ => builder.push_text(&record.unwrap()[3]),
            }
        }
        let texts = builder.finish();
        let by_column = votes(&simple, vec![&texts]);
        assert_eq!(by_column, votes(&general, vec![&texts]));
        for output in 0..simple.lfs.len() {
            let fired = by_column
                .iter()
                .skip(output)
                .step_by(simple.lfs.len())
                .filter(|vote| **vote != -1)
                .count();
            assert!(fired > 0, "LF {output} never fires");
        }
    }
}
