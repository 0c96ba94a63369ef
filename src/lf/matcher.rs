//! The fused text matcher: every keyword, token-lookup and regex LF over one column, evaluated
//! in one pass over each value per automaton (one Aho-Corasick automaton for the
//! case-insensitive words, one for the case-sensitive words, one `RegexSet`).
//!
//! Case-insensitive words follow Python's `word in text.lower()`: the text is lower-cased
//! (Unicode) and searched for the lower-cased word. ASCII text, the common case, is searched in
//! place with ASCII case folding, which gives the same answer without a copy.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::{Chunk, EvalError, Evaluator, VoteSink};
use crate::io::table::ColumnType;

/// A text rule of one LF.
#[derive(Clone, Debug)]
pub(crate) enum TextRule {
    /// Words, any or all of which must occur.
    Keywords {
        words: Vec<String>,
        case_sensitive: bool,
        whole_word: bool,
        require_all: bool,
    },
    /// A regular expression found anywhere in the text.
    Regex {
        pattern: String,
        case_sensitive: bool,
    },
}

impl TextRule {
    /// Compile the rule's regex alone, to report a bad pattern against its LF.
    pub fn check_regex(&self) -> Result<(), regex::Error> {
        if let TextRule::Regex {
            pattern,
            case_sensitive,
        } = self
        {
            RegexBuilder::new(pattern)
                .case_insensitive(!case_sensitive)
                .build()?;
        }
        Ok(())
    }
}

/// A word of a keyword rule, owned by the automaton pattern it belongs to.
#[derive(Clone, Copy, Debug)]
struct Owner {
    rule: u32,
    word: u32,
    whole_word: bool,
}

/// One Aho-Corasick automaton and, per distinct pattern, the rule words it stands for.
struct WordAutomaton {
    automaton: AhoCorasick,
    owners: Vec<Vec<Owner>>,
}

impl WordAutomaton {
    fn new(
        patterns: Vec<(String, Owner)>,
        ascii_case_insensitive: bool,
    ) -> Result<Option<Self>, String> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut distinct: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        for (pattern, owner) in patterns {
            match distinct.iter().position(|known| *known == pattern) {
                Some(index) => owners[index].push(owner),
                None => {
                    distinct.push(pattern);
                    owners.push(vec![owner]);
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(ascii_case_insensitive)
            .build(&distinct)
            .map_err(|error| format!("cannot build the keyword automaton: {error}"))?;
        Ok(Some(WordAutomaton { automaton, owners }))
    }

    /// Record in `found` every (rule, word) occurring in `haystack`.
    fn scan(&self, haystack: &str, found: &mut Vec<(u32, u32)>) {
        for hit in self.automaton.find_overlapping_iter(haystack) {
            for owner in &self.owners[hit.pattern().as_usize()] {
                if !owner.whole_word || is_whole_word(haystack, hit.start(), hit.end()) {
                    found.push((owner.rule, owner.word));
                }
            }
        }
    }
}

fn is_word_char(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

/// True when `text[start..end]` is neither preceded nor followed by a word character.
fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

enum Regexes {
    None,
    One(Regex, usize),
    Set(RegexSet, Vec<usize>),
}

struct KeywordRule {
    output: usize,
    class: i8,
    require_all: bool,
    n_words: usize,
}

/// Every text rule over one column.
pub(crate) struct FusedMatcher {
    inputs: Vec<(String, ColumnType)>,
    keyword_rules: Vec<KeywordRule>,
    insensitive: Option<WordAutomaton>,
    sensitive: Option<WordAutomaton>,
    regexes: Regexes,
    /// Class voted by each output.
    classes: Vec<i8>,
}

impl FusedMatcher {
    /// Fuse `rules` (class voted, rule) over `column`; output `i` is `rules[i]`.
    pub fn new(column: &str, rules: &[(i8, &TextRule)]) -> Result<FusedMatcher, String> {
        let mut keyword_rules = Vec::new();
        let mut insensitive = Vec::new();
        let mut sensitive = Vec::new();
        let mut patterns = Vec::new();
        let mut regex_outputs = Vec::new();
        for (output, (class, rule)) in rules.iter().enumerate() {
            match rule {
                TextRule::Keywords {
                    words,
                    case_sensitive,
                    whole_word,
                    require_all,
                } => {
                    let rule_index = keyword_rules.len() as u32;
                    for (word_index, word) in words.iter().enumerate() {
                        let owner = Owner {
                            rule: rule_index,
                            word: word_index as u32,
                            whole_word: *whole_word,
                        };
                        if *case_sensitive {
                            sensitive.push((word.clone(), owner));
                        } else {
                            insensitive.push((word.to_lowercase(), owner));
                        }
                    }
                    keyword_rules.push(KeywordRule {
                        output,
                        class: *class,
                        require_all: *require_all,
                        n_words: words.len(),
                    });
                }
                TextRule::Regex {
                    pattern,
                    case_sensitive,
                } => {
                    let flag = if *case_sensitive { "" } else { "(?i)" };
                    patterns.push(format!("{flag}(?:{pattern})"));
                    regex_outputs.push(output);
                }
            }
        }
        let regexes = match patterns.len() {
            0 => Regexes::None,
            1 => Regexes::One(
                Regex::new(&patterns[0]).map_err(|error| error.to_string())?,
                regex_outputs[0],
            ),
            _ => Regexes::Set(
                RegexSetBuilder::new(&patterns)
                    .build()
                    .map_err(|error| error.to_string())?,
                regex_outputs,
            ),
        };
        Ok(FusedMatcher {
            inputs: vec![(column.to_owned(), ColumnType::Text)],
            keyword_rules,
            insensitive: WordAutomaton::new(insensitive, true)?,
            sensitive: WordAutomaton::new(sensitive, false)?,
            regexes,
            classes: rules.iter().map(|(class, _)| *class).collect(),
        })
    }

    /// Vote on one text, calling `vote(output, class)` for every LF that fires.
    fn vote_text(&self, text: &str, found: &mut Vec<(u32, u32)>, mut vote: impl FnMut(usize, i8)) {
        if !self.keyword_rules.is_empty() {
            found.clear();
            if let Some(automaton) = &self.insensitive {
                if text.is_ascii() {
                    automaton.scan(text, found);
                } else {
                    automaton.scan(&text.to_lowercase(), found);
                }
            }
            if let Some(automaton) = &self.sensitive {
                automaton.scan(text, found);
            }
            found.sort_unstable();
            found.dedup();
            let mut next = 0;
            for (index, rule) in self.keyword_rules.iter().enumerate() {
                let mut count = 0;
                while next < found.len() && found[next].0 as usize == index {
                    count += 1;
                    next += 1;
                }
                let fires = if rule.require_all {
                    count == rule.n_words
                } else {
                    count > 0
                };
                if fires {
                    vote(rule.output, rule.class);
                }
            }
        }
        match &self.regexes {
            Regexes::None => {}
            Regexes::One(regex, output) => {
                if regex.is_match(text) {
                    vote(*output, self.classes[*output]);
                }
            }
            Regexes::Set(set, outputs) => {
                for index in set.matches(text).iter() {
                    vote(outputs[index], self.classes[outputs[index]]);
                }
            }
        }
    }
}

impl Evaluator for FusedMatcher {
    fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    fn evaluate(&self, chunk: &Chunk<'_>, sink: &mut VoteSink<'_>) -> Result<(), EvalError> {
        let column = chunk.columns[0];
        let mut found = Vec::new();
        for row in 0..chunk.len {
            if let Some(text) = column.text(chunk.start + row) {
                self.vote_text(text, &mut found, |output, class| {
                    sink.set(row, output, class)
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(
        words: &[&str],
        case_sensitive: bool,
        whole_word: bool,
        require_all: bool,
    ) -> TextRule {
        TextRule::Keywords {
            words: words.iter().map(|word| (*word).to_owned()).collect(),
            case_sensitive,
            whole_word,
            require_all,
        }
    }

    fn votes(matcher: &FusedMatcher, text: &str) -> Vec<i8> {
        let mut result = vec![-1; matcher.classes.len()];
        matcher.vote_text(text, &mut Vec::new(), |output, class| {
            result[output] = class
        });
        result
    }

    #[test]
    fn substring_case_insensitive_like_python_lower() {
        let rule = keywords(&["my"], false, false, false);
        let matcher = FusedMatcher::new("text", &[(1, &rule)]).unwrap();
        assert_eq!(votes(&matcher, "Check MY channel"), [1]);
        assert_eq!(votes(&matcher, "a mystery"), [1]);
        assert_eq!(votes(&matcher, "nothing here"), [-1]);
        // Non-ASCII text is lower-cased with Unicode rules first.
        assert_eq!(votes(&matcher, "ÉTÉ MY"), [1]);
    }

    #[test]
    fn non_ascii_keywords_match_after_unicode_lowercasing() {
        let rule = keywords(&["ÉTÉ"], false, false, false);
        let matcher = FusedMatcher::new("text", &[(0, &rule)]).unwrap();
        assert_eq!(votes(&matcher, "un bel été"), [0]);
        assert_eq!(votes(&matcher, "UN BEL ÉTÉ"), [0]);
        assert_eq!(votes(&matcher, "un bel ete"), [-1]);
    }

    #[test]
    fn case_sensitive_words_need_exact_case() {
        let rule = keywords(&["USA"], true, false, false);
        let matcher = FusedMatcher::new("text", &[(0, &rule)]).unwrap();
        assert_eq!(votes(&matcher, "made in USA"), [0]);
        assert_eq!(votes(&matcher, "made in usa"), [-1]);
    }

    #[test]
    fn whole_words_need_boundaries() {
        let rule = keywords(&["my"], false, true, false);
        let matcher = FusedMatcher::new("text", &[(1, &rule)]).unwrap();
        assert_eq!(votes(&matcher, "my channel"), [1]);
        assert_eq!(votes(&matcher, "see: my!"), [1]);
        assert_eq!(votes(&matcher, "mystery"), [-1]);
        assert_eq!(votes(&matcher, "enemy"), [-1]);
        assert_eq!(votes(&matcher, "my_channel"), [-1]);
        // A later whole occurrence counts even when an earlier one is inside a word.
        assert_eq!(votes(&matcher, "enemy of my enemy"), [1]);
    }

    #[test]
    fn require_all_needs_every_word() {
        let rule = keywords(&["free", "money"], false, false, true);
        let matcher = FusedMatcher::new("text", &[(1, &rule)]).unwrap();
        assert_eq!(votes(&matcher, "FREE money now"), [1]);
        assert_eq!(votes(&matcher, "free stuff"), [-1]);
        assert_eq!(votes(&matcher, "free free free"), [-1]);
    }

    #[test]
    fn shared_words_and_regexes_fuse_without_interference() {
        let my_substring = keywords(&["my"], false, false, false);
        let my_word = keywords(&["my", "mine"], false, true, false);
        let song = keywords(&["song"], false, false, false);
        let check_out = TextRule::Regex {
            pattern: "check.*out".into(),
            case_sensitive: false,
        };
        let digits = TextRule::Regex {
            pattern: r"\d{3}".into(),
            case_sensitive: true,
        };
        let rules = [
            (1, &my_substring),
            (1, &my_word),
            (0, &song),
            (1, &check_out),
            (1, &digits),
        ];
        let matcher = FusedMatcher::new("text", &rules).unwrap();
        assert_eq!(
            votes(&matcher, "CHECK it OUT: mystery song 123"),
            [1, -1, 0, 1, 1]
        );
        assert_eq!(votes(&matcher, "that is mine"), [-1, 1, -1, -1, -1]);
        // `.` does not cross lines, as in Python's re.search.
        assert_eq!(votes(&matcher, "check\nout"), [-1, -1, -1, -1, -1]);
    }
}
