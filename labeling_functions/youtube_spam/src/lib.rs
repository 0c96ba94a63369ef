//! The labeling functions of the Snorkel spam tutorial, as a labelgen plugin.
//!
//! Classes: `HAM` = 0, `SPAM` = 1. Every LF reads the `text` column (point it at another column
//! with `labelgen apply --column text=CONTENT`). The semantics are exactly the tutorial's: the
//! text is lower-cased and searched for substrings, so `"my"` also fires inside `"mystery"`.
//! `labeling_functions/youtube_spam.toml` defines the same LFs declaratively; both produce the
//! same label matrix.
//!
//! Build: `cargo build --release -p youtube_spam` gives `target/release/libyoutube_spam_lfs.so`.

use labelgen_sdk::text::{LowercaseWord, token_count_up_to};
use labelgen_sdk::{Class, ColumnType, Plugin, Row};

/// A comment about the video itself.
const HAM: Class = Class::new(0);
/// An advertisement or request unrelated to the video.
const SPAM: Class = Class::new(1);

/// `class` when the lower-cased text contains any of `keywords` (Python's `k in text.lower()`).
fn any_keyword(row: &Row, keywords: &[LowercaseWord], class: Class) -> Option<Class> {
    let text = row.text("text")?;
    keywords
        .iter()
        .any(|keyword| keyword.is_in(text))
        .then_some(class)
}

/// `keyword_my` votes SPAM: spammers talk about "my channel", "my video".
/// Example: "check out my channel". Misfires: any word containing "my" ("mystery", "enemy").
fn keyword_my(row: &Row) -> Option<Class> {
    const MY: [LowercaseWord; 1] = [LowercaseWord::new("my")];
    any_keyword(row, &MY, SPAM)
}

/// `keyword_subscribe` votes SPAM: spammers ask for subscriptions.
/// Example: "please subscribe to me". Misfires: "I subscribed because of this song".
fn keyword_subscribe(row: &Row) -> Option<Class> {
    const SUBSCRIBE: [LowercaseWord; 1] = [LowercaseWord::new("subscribe")];
    any_keyword(row, &SUBSCRIBE, SPAM)
}

/// `keyword_link` votes SPAM: spam links to other pages.
/// Example: "http://example.com/win". Misfires: a fan linking the official video.
fn keyword_link(row: &Row) -> Option<Class> {
    const HTTP: [LowercaseWord; 1] = [LowercaseWord::new("http")];
    any_keyword(row, &HTTP, SPAM)
}

/// `keyword_please` votes SPAM: spam makes requests rather than commenting.
/// Example: "plz visit my page". Misfires: "please make more songs like this".
fn keyword_please(row: &Row) -> Option<Class> {
    any_keyword(
        row,
        &[LowercaseWord::new("please"), LowercaseWord::new("plz")],
        SPAM,
    )
}

/// `keyword_song` votes HAM: real comments talk about the song.
/// Example: "this song is amazing". Misfires: "listen to my song on my channel".
fn keyword_song(row: &Row) -> Option<Class> {
    const SONG: [LowercaseWord; 1] = [LowercaseWord::new("song")];
    any_keyword(row, &SONG, HAM)
}

/// `regex_check_out` votes SPAM when the text matches `check.*out` (case-insensitive), the
/// classic "check out my ..." request. Misfires: "check it out at 2:30, the best part".
fn regex_check_out(row: &Row) -> Option<Class> {
    let text = row.text("text")?;
    const CHECK: LowercaseWord = LowercaseWord::new("check");
    if !CHECK.is_in(text) {
        return None;
    }
    let text = text.to_lowercase();
    // `.` does not cross a newline (Python's `re.search` without DOTALL), so the pattern matches
    // when some line has "out" after its first "check".
    let matched = text.split('\n').any(|line| {
        line.find("check")
            .is_some_and(|start| line[start + "check".len()..].contains("out"))
    });
    matched.then_some(SPAM)
}

/// `short_comment` votes HAM on comments of fewer than 5 whitespace-separated tokens: real
/// comments are often short ("cool video!"). Misfires: short spam such as "sub to me plz".
fn short_comment(row: &Row) -> Option<Class> {
    // Python's `len(text.split()) < 5`.
    (token_count_up_to(row.text("text")?, 5) < 5).then_some(HAM)
}

fn plugin() -> Plugin {
    const TEXT: &[(&str, ColumnType)] = &[("text", ColumnType::Text)];
    Plugin::new("youtube_spam", env!("CARGO_PKG_VERSION"), &["HAM", "SPAM"])
        .lf("keyword_my", TEXT, keyword_my)
        .lf("keyword_subscribe", TEXT, keyword_subscribe)
        .lf("keyword_link", TEXT, keyword_link)
        .lf("keyword_please", TEXT, keyword_please)
        .lf("keyword_song", TEXT, keyword_song)
        .lf("regex_check_out", TEXT, regex_check_out)
        .lf("short_comment", TEXT, short_comment)
}

labelgen_sdk::export_plugin!(plugin);
