//! The apply step alone: the seven Snorkel-tutorial LFs (as TOML and as the plugin), and 50
//! composite LFs with preprocessing (`benches/composite_lfs.toml`), over in-memory batches of UCI
//! YouTube comments, repeated to the size measured. Reading and writing
//! are outside the timed loop; `benches/compare_apply.py` times the whole command end to end.
//!
//! Run: `cargo bench --bench apply` (builds the plugin in release first).

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use labelgen::apply::apply_to_batch;
use labelgen::io::open::open_table;
use labelgen::io::source::TableFormat;
use labelgen::io::table::{Batch, ColumnBuilder, ColumnRequest, ColumnType};
use labelgen::lf::{LfSet, LfSource};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The UCI comments (CONTENT of the five raw files), in file order.
fn comments() -> Vec<String> {
    let mut texts = Vec::new();
    for name in [
        "Youtube01-Psy",
        "Youtube02-KatyPerry",
        "Youtube03-LMFAO",
        "Youtube04-Eminem",
        "Youtube05-Shakira",
    ] {
        let path = repo().join(format!("datasets/youtube/raw/{name}.csv"));
        let request = [ColumnRequest {
            name: "CONTENT".into(),
            column_type: Some(ColumnType::Text),
        }];
        let mut source = open_table(
            &path,
            TableFormat::Csv { delimiter: b',' },
            &request,
            &|_| String::new(),
            1 << 16,
        )
        .expect("raw UCI file");
        while let Some(read) = source.next_batch().expect("readable") {
            for part in read.parts {
                let column = &part.columns[0];
                texts.extend(
                    (0..column.len()).map(|row| column.text(row).unwrap_or_default().to_owned()),
                );
            }
        }
    }
    texts
}

/// Batches of 65,536 rows holding `n_rows` comments (the corpus repeated).
fn batches(texts: &[String], n_rows: usize) -> Vec<Batch> {
    let batch_rows = 1 << 16;
    (0..n_rows)
        .step_by(batch_rows)
        .map(|first| {
            let len = batch_rows.min(n_rows - first);
            let mut builder = ColumnBuilder::new(ColumnType::Text, len);
            for row in first..first + len {
                builder.push_text(&texts[row % texts.len()]);
            }
            Batch {
                first_row: first as u64,
                n_rows: len,
                columns: vec![builder.finish()],
            }
        })
        .collect()
}

fn release_plugin() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(repo())
        .args(["build", "--release", "--quiet", "-p", "youtube_spam"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the plugin failed");
    repo().join("target/release/libyoutube_spam_lfs.so")
}

fn bench_apply(criterion: &mut Criterion) {
    let texts = comments();
    let sources = [
        (
            "toml",
            LfSource::Declarative(repo().join("labeling_functions/youtube_spam.toml")),
        ),
        ("plugin", LfSource::Plugin(release_plugin())),
        (
            "composite50",
            LfSource::Declarative(repo().join("benches/composite_lfs.toml")),
        ),
    ];
    let mut group = criterion.benchmark_group("apply_step");
    group.sample_size(10);
    for n_rows in [100_000, 1_000_000] {
        let data = batches(&texts, n_rows);
        group.throughput(Throughput::Elements(n_rows as u64));
        for (name, source) in &sources {
            let set = LfSet::load(std::slice::from_ref(source)).expect("LFs load");
            let mut map = std::collections::BTreeMap::new();
            map.insert("text".to_owned(), "CONTENT".to_owned());
            let plan = set.read_plan(&map, None).expect("plan");
            assert_eq!(plan.requests.len(), 1, "one text column");
            group.bench_with_input(BenchmarkId::new(*name, n_rows), &data, |bencher, data| {
                bencher.iter(|| {
                    let mut abstains = 0usize;
                    for batch in data {
                        let votes = apply_to_batch(&set, &plan, batch).expect("LFs apply");
                        abstains += votes.iter().filter(|vote| **vote == -1).count();
                    }
                    abstains
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_apply);
criterion_main!(benches);
