//! Preprocessing steps and views: a view is a text column passed through steps in order, declared
//! once in an LF file (`[views.NAME]`) and computed at most once per row for every LF reading it.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use super::html_entities::ENTITIES;

/// One preprocessing step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Decode HTML character references: the 252 named ones of HTML 4 (`&amp;`, `&quot;`,
    /// `&eacute;`, ...) and numeric ones (`&#39;`, `&#x27;`), each only with its `;`. One pass:
    /// `&amp;lt;` becomes `&lt;`. A reference to no valid character is left as written.
    DecodeHtml,
    /// Unicode NFKC normalisation (compatibility forms: `ﬁ` -> `fi`, full-width letters to ASCII,
    /// `①` -> `1`).
    Nfkc,
    /// Unicode lower case (Rust's and Python's `str.lower()`).
    Lowercase,
    /// Replace every URL (`http://`, `https://` or `www.` in any case, up to the next
    /// whitespace) by one space.
    StripUrls,
    /// Replace every run of Unicode whitespace by one space and trim both ends.
    CollapseWhitespace,
}

impl Step {
    /// Every step, for messages.
    pub const ALL: [Step; 5] = [
        Step::DecodeHtml,
        Step::Nfkc,
        Step::Lowercase,
        Step::StripUrls,
        Step::CollapseWhitespace,
    ];

    /// The name used in LF files.
    pub fn name(self) -> &'static str {
        match self {
            Step::DecodeHtml => "decode_html",
            Step::Nfkc => "nfkc",
            Step::Lowercase => "lowercase",
            Step::StripUrls => "strip_urls",
            Step::CollapseWhitespace => "collapse_whitespace",
        }
    }

    /// Apply the step to `text`, writing the result into `out` (cleared first).
    fn apply(self, text: &str, out: &mut String) {
        out.clear();
        match self {
            Step::DecodeHtml => decode_html(text, out),
            Step::Nfkc => {
                if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
                    out.push_str(text);
                } else {
                    out.extend(text.nfkc());
                }
            }
            Step::Lowercase => {
                if text.is_ascii() {
                    out.extend(text.bytes().map(|byte| byte.to_ascii_lowercase() as char));
                } else {
                    out.push_str(&text.to_lowercase());
                }
            }
            Step::StripUrls => {
                static URL: LazyLock<Regex> =
                    LazyLock::new(|| Regex::new(URL_PATTERN).expect("the URL pattern compiles"));
                out.push_str(&URL.replace_all(text, " "));
            }
            Step::CollapseWhitespace => {
                for (index, word) in text.split_whitespace().enumerate() {
                    if index > 0 {
                        out.push(' ');
                    }
                    out.push_str(word);
                }
            }
        }
    }
}

/// What `strip_urls` removes (Rust `regex` syntax; Python polars uses the same engine).
pub const URL_PATTERN: &str = r"(?i:https?://|www\.)\S+";

/// Steps applied in order to a text column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub(crate) struct Preprocessor {
    pub steps: Vec<Step>,
}

impl Preprocessor {
    /// Write `text` after every step into `out`, using `spare` as a second buffer.
    pub fn apply(&self, text: &str, out: &mut String, spare: &mut String) {
        out.clear();
        out.push_str(text);
        for step in &self.steps {
            step.apply(out.as_str(), spare);
            std::mem::swap(out, spare);
        }
    }
}

/// Decode HTML character references in `text` into `out`.
fn decode_html(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        // The longest reference is `&#1114111;` or `&thetasym;`: 9 bytes after the `&`.
        let decoded = memchr::memchr(b';', &after.as_bytes()[..after.len().min(10)])
            .and_then(|end| reference(&after[..end]).map(|character| (character, end)));
        match decoded {
            Some((character, end)) => {
                out.push(character);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The character a reference names (`amp`, `#39`, `#x27`), if any.
fn reference(name: &str) -> Option<char> {
    let code = if let Some(number) = name.strip_prefix('#') {
        match number.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16).ok()?
            }
            None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                number.parse().ok()?
            }
            _ => return None,
        }
    } else {
        let index = ENTITIES
            .binary_search_by(|(known, _)| known.cmp(&name))
            .ok()?;
        ENTITIES[index].1
    };
    char::from_u32(code).filter(|character| *character != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(steps: &[Step], text: &str) -> String {
        let (mut out, mut spare) = (String::new(), String::new());
        Preprocessor {
            steps: steps.to_vec(),
        }
        .apply(text, &mut out, &mut spare);
        out
    }

    #[test]
    fn html_references_decode_once_and_bad_ones_stay() {
        let decode = |text| run(&[Step::DecodeHtml], text);
        assert_eq!(
            decode("I&#39;m &quot;in&quot; &amp; out"),
            "I'm \"in\" & out"
        );
        assert_eq!(decode("&#x27;&#X27;&eacute;&Eacute;"), "''éÉ");
        assert_eq!(decode("&amp;lt; stays &lt;"), "&lt; stays <");
        assert_eq!(
            decode("AT&T & co &nosuch; &#; &#xZZ; &#0; &#1114112; &amp"),
            "AT&T & co &nosuch; &#; &#xZZ; &#0; &#1114112; &amp"
        );
        assert_eq!(decode("&thetasym;&#1114111;"), "\u{3d1}\u{10ffff}");
        assert_eq!(decode("trailing &"), "trailing &");
    }

    #[test]
    fn the_entity_table_is_sorted_and_agrees_with_python() {
        assert_eq!(ENTITIES.len(), 252);
        assert!(ENTITIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        // Spot checks against Python 3's html.entities.name2codepoint.
        for (name, code) in [("nbsp", 0xa0), ("hellip", 0x2026), ("euro", 0x20ac)] {
            assert_eq!(reference(name), char::from_u32(code));
        }
    }

    #[test]
    fn nfkc_lowercase_urls_and_whitespace() {
        assert_eq!(run(&[Step::Nfkc], "ﬁne ＦＲＥＥ ①"), "fine FREE 1");
        assert_eq!(run(&[Step::Lowercase], "FREE Été"), "free été");
        assert_eq!(
            run(&[Step::StripUrls], "go HTTPS://x.io/a?b now, www.y.com!"),
            "go   now,  "
        );
        assert_eq!(
            run(&[Step::CollapseWhitespace], "  a \t b\u{a0}\nc  "),
            "a b c"
        );
    }

    #[test]
    fn steps_apply_in_order() {
        let all = [
            Step::DecodeHtml,
            Step::Nfkc,
            Step::Lowercase,
            Step::StripUrls,
            Step::CollapseWhitespace,
        ];
        assert_eq!(
            run(&all, "Check&#39;s  ＦＲＥＥ http://a.b &amp; MORE"),
            "check's free & more"
        );
        // Lower-casing first renames the reference: `&Eacute;` becomes `&eacute;`.
        assert_eq!(run(&[Step::Lowercase, Step::DecodeHtml], "&Eacute;"), "é");
        assert_eq!(run(&[], "As Is"), "As Is");
    }
}
