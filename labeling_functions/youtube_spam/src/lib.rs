//! The labeling functions of the Snorkel spam tutorial, as a labelgen plugin.
//!
//! Classes: `HAM` = 0, `SPAM` = 1. Every LF reads the `text` column (point it at another column
//! with `labelgen apply --column text=CONTENT`). The semantics are exactly the tutorial's: the
//! text is lower-cased and searched for substrings, so `"my"` also fires inside `"mystery"`.
//! `labeling_functions/youtube_spam.toml` defines the same LFs declaratively; both produce the
//! same label matrix.
//!
//! Build: `cargo build --release -p youtube_spam` gives `target/release/libyoutube_spam_lfs.so`.

use labelgen_sdk::{Class, ColumnType, Plugin, Row};

/// A comment about the video itself.
const HAM: Class = Class::new(0);
/// An advertisement or request unrelated to the video.
const SPAM: Class = Class::new(1);

/// SPAM when the lower-cased text contains any of `keywords`.
fn any_keyword(row: &Row, keywords: &[&str], class: Class) -> Option<Class> {
    let text = row.text("text")?.to_lowercase();
    keywords
        .iter()
        .any(|keyword| text.contains(keyword))
        .then_some(class)
}

/// `keyword_my` votes SPAM: spammers talk about "my channel", "my video".
/// Example: "check out my channel". Misfires: any word containing "my" ("mystery", "enemy").
fn keyword_my(row: &Row) -> Option<Class> {
    any_keyword(row, &["my"], SPAM)
}

/// `keyword_subscribe` votes SPAM: spammers ask for subscriptions.
/// Example: "please subscribe to me". Misfires: "I subscribed because of this song".
fn keyword_subscribe(row: &Row) -> Option<Class> {
    any_keyword(row, &["subscribe"], SPAM)
}

/// `keyword_link` votes SPAM: spam links to other pages.
/// Example: "http://example.com/win". Misfires: a fan linking the official video.
fn keyword_link(row: &Row) -> Option<Class> {
    any_keyword(row, &["http"], SPAM)
}

/// `keyword_please` votes SPAM: spam makes requests rather than commenting.
/// Example: "plz visit my page". Misfires: "please make more songs like this".
fn keyword_please(row: &Row) -> Option<Class> {
    any_keyword(row, &["please", "plz"], SPAM)
}

/// `keyword_song` votes HAM: real comments talk about the song.
/// Example: "this song is amazing". Misfires: "listen to my song on my channel".
fn keyword_song(row: &Row) -> Option<Class> {
    any_keyword(row, &["song"], HAM)
}

/// `regex_check_out` votes SPAM when the text matches `check.*out` (case-insensitive), the
/// classic "check out my ..." request. Misfires: "check it out at 2:30, the best part".
fn regex_check_out(row: &Row) -> Option<Class> {
    let text = row.text("text")?.to_lowercase();
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
    (row.text("text")?.split_whitespace().count() < 5).then_some(HAM)
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
