//! Text tests with Python's semantics, fast: what Snorkel-style LFs do with `text.lower()` and
//! `text.split()`, without allocating in the common case. labelgen's declarative LFs use these
//! same functions, so a plugin using them agrees with a TOML file by construction.

/// The characters outside ASCII whose lower case contains ASCII: U+0130 (`İ` -> `i̇`) and
/// U+212A (Kelvin sign -> `k`), the same in Python's and Rust's Unicode tables. Only when a
/// text holds one of them does ASCII case folding differ from `to_lowercase` for ASCII words.
/// Their UTF-8 encodings start with 0xC4 (U+0130: C4 B0) and 0xE2 (U+212A: E2 84 AA).
pub fn lowercase_adds_ascii(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(0xc4, 0xe2, bytes).any(|at| {
        let rest = &bytes[at..];
        rest.starts_with("\u{130}".as_bytes()) || rest.starts_with("\u{212A}".as_bytes())
    })
}

/// True when `needle` (lower case) could match text produced by lower-casing U+0130 or U+212A,
/// which give `i` (plus a combining dot) and `k`, or is not ASCII.
const fn may_need_unicode_lowercase(needle: &str) -> bool {
    let bytes = needle.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] >= 0x80 || bytes[index] == b'i' || bytes[index] == b'k' {
            return true;
        }
        index += 1;
    }
    false
}

/// The position of the rarest byte of `needle`.
const fn rarest_byte(needle: &[u8]) -> usize {
    let (mut best, mut index) = (0, 0);
    while index < needle.len() {
        if COMMONNESS[needle[index] as usize] < COMMONNESS[needle[best] as usize] {
            best = index;
        }
        index += 1;
    }
    best
}

/// A lower-case word to look for as Python's `word in text.lower()` does, prepared once (at
/// compile time when declared `const`):
///
/// ```
/// use labelgen_sdk::text::LowercaseWord;
/// const SUBSCRIBE: LowercaseWord = LowercaseWord::new("subscribe");
/// assert!(SUBSCRIBE.is_in("Please SUBSCRIBE!"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LowercaseWord {
    word: &'static str,
    anchor: usize,
    needs_unicode: bool,
}

impl LowercaseWord {
    /// Prepare `word`, which must be lower case (an upper-case letter in it never matches).
    pub const fn new(word: &'static str) -> LowercaseWord {
        LowercaseWord {
            word,
            anchor: rarest_byte(word.as_bytes()),
            needs_unicode: may_need_unicode_lowercase(word),
        }
    }

    /// Python's `word in text.lower()`.
    pub fn is_in(&self, text: &str) -> bool {
        if self.needs_unicode && (!self.word.is_ascii() || lowercase_adds_ascii(text)) {
            return text.to_lowercase().contains(self.word);
        }
        find_folded(text.as_bytes(), self.word.as_bytes(), self.anchor)
    }
}

/// ASCII-case-insensitive search of `needle` in `haystack`, anchored on `needle[anchor]`.
fn find_folded(haystack: &[u8], needle: &[u8], anchor: usize) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.len() < needle.len() {
        return false;
    }
    let byte = needle[anchor];
    let window = &haystack[anchor..=haystack.len() - needle.len() + anchor];
    memchr::memchr2_iter(byte, byte.to_ascii_uppercase(), window)
        .any(|at| haystack[at..at + needle.len()].eq_ignore_ascii_case(needle))
}

/// How common each byte is in text (higher = more common), to anchor searches on the rarest
/// byte of a word; bytes other than letters and space count as rare.
const COMMONNESS: [u8; 256] = {
    const BY_RANK: &[u8] = b"zqxjkvbpygfwmucldrhsnioate ";
    let mut table = [0u8; 256];
    let mut rank = 0;
    while rank < BY_RANK.len() {
        let byte = BY_RANK[rank];
        table[byte as usize] = rank as u8 + 1;
        table[byte.to_ascii_uppercase() as usize] = rank as u8 + 1;
        rank += 1;
    }
    table
};

/// Python's `c.isspace()`: Unicode White_Space plus the ASCII separators U+001C..U+001F.
pub fn is_python_whitespace(character: char) -> bool {
    character.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&character)
}

fn is_python_ascii_whitespace(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f
    )
}

/// Python's `len(text.split())`, but stops counting at `limit` (so long texts cost nothing once
/// the answer is known).
pub fn token_count_up_to(text: &str, limit: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut count, mut in_token, mut position) = (0, false, 0);
    while position < bytes.len() {
        let byte = bytes[position];
        let space = if byte < 0x80 {
            position += 1;
            is_python_ascii_whitespace(byte)
        } else {
            // Only non-ASCII characters are decoded.
            let character = text[position..].chars().next().unwrap_or_default();
            position += character.len_utf8();
            is_python_whitespace(character)
        };
        if !space && !in_token {
            count += 1;
            if count >= limit {
                return count;
            }
        }
        in_token = !space;
    }
    count
}

/// Python's `len(text.split())`.
pub fn token_count(text: &str) -> usize {
    token_count_up_to(text, usize::MAX)
}

/// Python's `needle in text.lower()`, for a `needle` that is already lower case. Allocates only
/// for a non-ASCII needle or a text holding U+0130 or U+212A. For a fixed word,
/// [`LowercaseWord`] prepares the search once.
pub fn contains_lowercase(text: &str, needle: &str) -> bool {
    if may_need_unicode_lowercase(needle) && (!needle.is_ascii() || lowercase_adds_ascii(text)) {
        return text.to_lowercase().contains(needle);
    }
    find_folded(
        text.as_bytes(),
        needle.as_bytes(),
        rarest_byte(needle.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_lowercase_agrees_with_lowercasing_first() {
        let texts = [
            "Check MY channel",
            "mYsTeRy",
            "no",
            "",
            "ÉTÉ MY SONG\u{feff}",
            "İstanbul",
            "\u{212A}ey",
            "KEY",
        ];
        let needles = [
            "my",
            "song",
            "k",
            "i",
            "é",
            "",
            "key",
            "istanbul",
            "i\u{307}stanbul",
        ];
        for text in texts {
            for needle in needles {
                assert_eq!(
                    contains_lowercase(text, needle),
                    text.to_lowercase().contains(needle),
                    "{text:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn contains_lowercase_agrees_on_generated_texts() {
        let alphabet = [
            'a', 'B', 'y', 'M', 'z', ' ', 'É', '\u{130}', '\u{212A}', 'k', 'I', '\u{feff}',
        ];
        let needles = ["my", "by", "zk", "a", "my b", "ym", "k", "i\u{307}", "é"];
        let mut state = 12345u64;
        for _ in 0..2000 {
            let length = (state % 9) as usize;
            let text: String = (0..length)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            for needle in needles {
                let expected = text.to_lowercase().contains(needle);
                assert_eq!(
                    contains_lowercase(&text, needle),
                    expected,
                    "{text:?} {needle:?}"
                );
                assert_eq!(
                    LowercaseWord::new(needle).is_in(&text),
                    expected,
                    "{text:?} {needle:?}"
                );
            }
            state = state.wrapping_add(7);
        }
    }

    #[test]
    fn tokens_split_like_python() {
        assert_eq!(token_count("a b  c\td"), 4);
        assert_eq!(token_count("  "), 0);
        assert_eq!(token_count("a\u{1c}b\u{a0}c\u{3000}d"), 4);
        assert_eq!(
            token_count("a\u{200b}b"),
            1,
            "a zero-width space is not whitespace in Python"
        );
        assert_eq!(token_count("x\u{feff} y"), 2);
        assert_eq!(token_count_up_to("one two three four five six", 3), 3);
    }
}
