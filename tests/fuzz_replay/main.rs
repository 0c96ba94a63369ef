//! Every fuzz target (fuzz/src/targets), run on its committed seeds (fuzz/seeds/TARGET) and on
//! the inputs that once crashed it (fuzz/regressions/TARGET): the targets' own checks, in the
//! ordinary test build. CI runs them this way, so they never rot, without building polars a
//! second time with libFuzzer's instrumentation (19 minutes here); `scripts/fuzz SECONDS`
//! fuzzes them for real.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod labelgen_fuzz;

use std::path::Path;

/// Run `target` on every file under `fuzz/seeds/NAME` and `fuzz/regressions/NAME`; the number
/// of inputs run.
fn replay(name: &str, target: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = 0;
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(name)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|entry| entry.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            target(&std::fs::read(&path).unwrap());
            inputs += 1;
        }
    }
    inputs
}

#[test]
fn every_fuzz_target_runs_on_its_seeds_and_regressions() {
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 8] = [
        ("csv_reader", labelgen_fuzz::csv_reader::run),
        ("ndjson_reader", labelgen_fuzz::ndjson_reader::run),
        ("wrench_reader", labelgen_fuzz::wrench_reader::run),
        ("lf_file", labelgen_fuzz::lf_file::run),
        ("model_file", labelgen_fuzz::model_file::run),
        ("project_file", labelgen_fuzz::project_file::run),
        ("plugin_descriptor", labelgen_fuzz::plugin_descriptor::run),
        ("stats_file", labelgen_fuzz::stats_file::run),
    ];
    for (name, target) in targets {
        // A target without seeds still runs on an empty input and a few bytes.
        target(b"");
        target(b"\x01\x02\x03 seed");
        let inputs = replay(name, target);
        assert!(
            inputs > 0 || name == "plugin_descriptor",
            "fuzz/seeds/{name} holds no input"
        );
    }
}
