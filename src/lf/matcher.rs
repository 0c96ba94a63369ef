//! The fused text matcher: every keyword, token-lookup and regex condition over one column (or
//! view), evaluated in one pass over each value per automaton (one Aho-Corasick automaton for
//! the case-insensitive words, one for the case-sensitive words, one `RegexSet`), whatever the
//! number of LFs.
//!
//! Case-insensitive words follow Python's `word in text.lower()`: the text is lower-cased
//! (Unicode) and searched for the lower-cased word. ASCII text, the common case, is searched in
//! place with ASCII case folding, which gives the same answer without a copy.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, Span, packed};
use labelgen_sdk::text::lowercase_adds_ascii;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

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

/// How a set of words is searched.
enum Search {
    /// A packed SIMD searcher (Teddy) for small word sets. It reports, from a starting point,
    /// the leftmost match and the first word matching there; the scan restarts one byte later
    /// and checks the words that could match at the same start, so no occurrence is missed.
    Packed {
        searcher: packed::Searcher,
        words: Vec<Vec<u8>>,
        /// Per word, the other words that are prefixes of it or it of them.
        same_start: Vec<Vec<usize>>,
    },
    /// A full Aho-Corasick automaton searched for overlapping matches, for large word sets.
    Full(AhoCorasick),
}

/// The words of one case mode and, per distinct word, the rule words it stands for. Words of
/// the case-insensitive set are lower case and searched in lower-cased text.
struct WordAutomaton {
    search: Search,
    owners: Vec<Vec<Owner>>,
}

impl WordAutomaton {
    fn new(patterns: Vec<(String, Owner)>) -> Result<Option<Self>, String> {
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
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&distinct)
            .build();
        let search = match packed {
            Some(searcher) => {
                let words: Vec<Vec<u8>> = distinct
                    .iter()
                    .map(|word| word.as_bytes().to_vec())
                    .collect();
                let same_start = (0..words.len())
                    .map(|index| {
                        (0..words.len())
                            .filter(|other| {
                                *other != index
                                    && (words[index].starts_with(&words[*other])
                                        || words[*other].starts_with(&words[index]))
                            })
                            .collect()
                    })
                    .collect();
                Search::Packed {
                    searcher,
                    words,
                    same_start,
                }
            }
            None => Search::Full(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&distinct)
                    .map_err(|error| format!("cannot build the keyword automaton: {error}"))?,
            ),
        };
        Ok(Some(WordAutomaton { search, owners }))
    }

    /// Record in `found` every (rule, word) occurring in `haystack`.
    fn scan(&self, haystack: &str, found: &mut Vec<(u32, u32)>) {
        let mut record = |word: usize, start: usize, end: usize| {
            for owner in &self.owners[word] {
                if !owner.whole_word || is_whole_word(haystack, start, end) {
                    found.push((owner.rule, owner.word));
                }
            }
        };
        match &self.search {
            Search::Packed {
                searcher,
                words,
                same_start,
            } => {
                let bytes = haystack.as_bytes();
                let mut from = 0;
                while let Some(hit) = searcher.find_in(bytes, Span::from(from..bytes.len())) {
                    let (start, word) = (hit.start(), hit.pattern().as_usize());
                    record(word, start, hit.end());
                    for other in &same_start[word] {
                        if bytes[start..].starts_with(&words[*other]) {
                            record(*other, start, start + words[*other].len());
                        }
                    }
                    from = start + 1;
                }
            }
            Search::Full(automaton) => {
                for hit in automaton.find_overlapping_iter(haystack) {
                    record(hit.pattern().as_usize(), hit.start(), hit.end());
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
    /// The rule's index among those the matcher was built from.
    rule: usize,
    require_all: bool,
    n_words: usize,
}

/// Every text rule over one column or view.
pub(crate) struct FusedMatcher {
    keyword_rules: Vec<KeywordRule>,
    insensitive: Option<WordAutomaton>,
    /// Whether every case-insensitive word is ASCII.
    insensitive_ascii: bool,
    /// Whether a case-insensitive word holds `i` or `k`, the letters U+0130 and U+212A
    /// lower-case to; without them, those characters cannot change what matches.
    insensitive_i_or_k: bool,
    sensitive: Option<WordAutomaton>,
    regexes: Regexes,
}

impl FusedMatcher {
    /// Fuse `rules`; [`FusedMatcher::matches`] reports rule `i` as `i`.
    pub fn new(rules: &[&TextRule]) -> Result<FusedMatcher, String> {
        let mut keyword_rules = Vec::new();
        let mut insensitive = Vec::new();
        let mut sensitive = Vec::new();
        let mut patterns = Vec::new();
        let mut regex_outputs = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
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
                        rule: index,
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
                    regex_outputs.push(index);
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
            keyword_rules,
            insensitive_ascii: insensitive.iter().all(|(word, _)| word.is_ascii()),
            insensitive_i_or_k: insensitive
                .iter()
                .any(|(word, _)| word.contains(['i', 'k'])),
            insensitive: WordAutomaton::new(insensitive)?,
            sensitive: WordAutomaton::new(sensitive)?,
            regexes,
        })
    }

    /// Call `fire(rule)` for every rule that holds on `text`.
    pub fn matches(&self, text: &str, scratch: &mut Scratch, mut fire: impl FnMut(usize)) {
        if !self.keyword_rules.is_empty() {
            let Scratch {
                found,
                folded,
                lowered,
            } = scratch;
            found.clear();
            if let Some(automaton) = &self.insensitive {
                // ASCII folding equals lower-casing for ASCII words, unless the text holds one
                // of the two characters that lower-case to ASCII; it needs no allocation.
                let fold = text.is_ascii()
                    || (self.insensitive_ascii
                        && !(self.insensitive_i_or_k && lowercase_adds_ascii(text)));
                let haystack = if fold {
                    folded.clear();
                    folded.extend_from_slice(text.as_bytes());
                    folded.make_ascii_lowercase();
                    // SAFETY: lower-casing ASCII bytes and keeping the others keeps UTF-8 valid.
                    unsafe { std::str::from_utf8_unchecked(folded) }
                } else {
                    *lowered = text.to_lowercase();
                    lowered.as_str()
                };
                automaton.scan(haystack, found);
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
                    fire(rule.rule);
                }
            }
        }
        match &self.regexes {
            Regexes::None => {}
            Regexes::One(regex, output) => {
                if regex.is_match(text) {
                    fire(*output);
                }
            }
            Regexes::Set(set, outputs) => {
                for index in set.matches(text).iter() {
                    fire(outputs[index]);
                }
            }
        }
    }
}

/// Buffers reused from row to row.
#[derive(Default)]
pub(crate) struct Scratch {
    found: Vec<(u32, u32)>,
    folded: Vec<u8>,
    lowered: String,
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

    /// Per rule, `class` when it holds and -1 otherwise.
    fn votes(rules: &[(i8, &TextRule)], text: &str) -> Vec<i8> {
        let only: Vec<&TextRule> = rules.iter().map(|(_, rule)| *rule).collect();
        let matcher = FusedMatcher::new(&only).unwrap();
        let mut result = vec![-1; rules.len()];
        matcher.matches(text, &mut Scratch::default(), |rule| {
            result[rule] = rules[rule].0
        });
        result
    }

    #[test]
    fn substring_case_insensitive_like_python_lower() {
        let rule = keywords(&["my"], false, false, false);
        let matcher = [(1, &rule)];
        assert_eq!(votes(&matcher, "Check MY channel"), [1]);
        assert_eq!(votes(&matcher, "a mystery"), [1]);
        assert_eq!(votes(&matcher, "nothing here"), [-1]);
        // Non-ASCII text is lower-cased with Unicode rules first.
        assert_eq!(votes(&matcher, "ÉTÉ MY"), [1]);
    }

    #[test]
    fn non_ascii_keywords_match_after_unicode_lowercasing() {
        let rule = keywords(&["ÉTÉ"], false, false, false);
        let matcher = [(0, &rule)];
        assert_eq!(votes(&matcher, "un bel été"), [0]);
        assert_eq!(votes(&matcher, "UN BEL ÉTÉ"), [0]);
        assert_eq!(votes(&matcher, "un bel ete"), [-1]);
    }

    #[test]
    fn case_sensitive_words_need_exact_case() {
        let rule = keywords(&["USA"], true, false, false);
        let matcher = [(0, &rule)];
        assert_eq!(votes(&matcher, "made in USA"), [0]);
        assert_eq!(votes(&matcher, "made in usa"), [-1]);
    }

    #[test]
    fn whole_words_need_boundaries() {
        let rule = keywords(&["my"], false, true, false);
        let matcher = [(1, &rule)];
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
        let matcher = [(1, &rule)];
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
        let matcher = rules;
        assert_eq!(
            votes(&matcher, "CHECK it OUT: mystery song 123"),
            [1, -1, 0, 1, 1]
        );
        assert_eq!(votes(&matcher, "that is mine"), [-1, 1, -1, -1, -1]);
        // `.` does not cross lines, as in Python's re.search.
        assert_eq!(votes(&matcher, "check\nout"), [-1, -1, -1, -1, -1]);
    }
}
