//! `labelgen run`, `runs`, `runs diff`, `compare` and `init`: the bundled example end to end,
//! the cache (no-change runs, one edited LF, a changed data file), interruption, corruption,
//! the lock, and a `runs diff` snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{failure, files_in, labelgen, repo_path, success};

/// A project in `dir` over the bundled YouTube splits with the tutorial LFs as TOML (copied,
/// so tests can edit them); `train` can point at another train file.
fn toml_project(dir: &Path, train: Option<&Path>) -> PathBuf {
    std::fs::copy(
        repo_path("labeling_functions/youtube_spam.toml"),
        dir.join("lfs.toml"),
    )
    .unwrap();
    let data = |split: &str| repo_path(&format!("datasets/youtube/{split}.json"));
    let train = train.map_or_else(|| data("train"), Path::to_owned);
    let project = dir.join("labelgen.toml");
    std::fs::write(
        &project,
        format!(
            r#"[project]
name = "test"

[data]
train = "{}"
dev = {{ path = "{}", gold = "label" }}
test = {{ path = "{}", gold = "label" }}
id_column = "id"

[lfs]
files = ["lfs.toml"]

[end_model]
max_iterations = 50
"#,
            train.display(),
            data("valid").display(),
            data("test").display()
        ),
    )
    .unwrap();
    project
}

fn run(dir: &Path) -> (String, String) {
    let output = labelgen(dir, &["run"]);
    let stdout = success(&output);
    (stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The stage lines of a run's standard error: `(stage, cache, detail)`.
fn stages(stderr: &str) -> Vec<(String, String, String)> {
    stderr
        .lines()
        .filter(|line| line.starts_with("  "))
        .map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            (
                parts[0].to_owned(),
                parts[3].to_owned(),
                parts[4..].join(" "),
            )
        })
        .collect()
}

fn cache_of<'a>(stages: &'a [(String, String, String)], name: &str) -> &'a str {
    &stages
        .iter()
        .find(|(stage, _, _)| stage == name)
        .unwrap_or_else(|| panic!("no stage {name} in {stages:?}"))
        .1
}

/// The run folders of the project in `dir`, oldest first (by their manifests' sequence
/// numbers: run ids of one second sort by their random part).
fn runs(dir: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<(u64, PathBuf)> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .flatten()
        .map(|item| item.path())
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|path| {
            let manifest: serde_json::Value = serde_json::from_slice(
                &std::fs::read(path.join("manifest.json")).unwrap_or_default(),
            )
            .unwrap_or_default();
            (manifest["sequence"].as_u64().unwrap_or(0), path)
        })
        .collect();
    runs.sort();
    runs.into_iter().map(|(_, path)| path).collect()
}

fn metrics(run: &Path) -> String {
    std::fs::read_to_string(run.join("metrics.json")).unwrap()
}

/// The bundled example (plugin built by cargo) runs end to end and ends with the summary table;
/// a second run does nothing but hash.
#[test]
fn bundled_example_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(repo_path("examples/youtube/labelgen.toml")).unwrap();
    let root = repo_path("");
    let absolute = example.replace("../../", &format!("{}/", root.display()));
    std::fs::write(dir.path().join("labelgen.toml"), absolute).unwrap();
    let (stdout, stderr) = run(dir.path());
    let first = stages(&stderr);
    assert_eq!(cache_of(&first, "plugins"), "miss");
    assert!(stdout.contains("majority vote"), "{stdout}");
    assert!(stdout.contains("label model (generative)"), "{stdout}");
    assert!(stdout.contains("end model (classifier)"), "{stdout}");
    let run_dir = &runs(dir.path())[0];
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["lfs"].as_array().unwrap().len(), 7);
    let end = manifest["metrics"]["test"]["end_model"]["accuracy"]
        .as_f64()
        .unwrap();
    let model = manifest["metrics"]["test"]["label_model"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(end > model, "end model {end} vs label model {model}");
    for output in manifest["outputs"].as_array().unwrap() {
        let path = run_dir.join(output["path"].as_str().unwrap());
        let hash = blake3::hash(&std::fs::read(&path).unwrap())
            .to_hex()
            .to_string();
        assert_eq!(output["hash"].as_str().unwrap(), hash, "{}", path.display());
    }
    let (stdout, stderr) = run(dir.path());
    assert!(
        stdout.starts_with("nothing changed: every stage came from the cache"),
        "{stdout}"
    );
    assert!(
        stages(&stderr)
            .iter()
            .all(|(_, cache, _)| cache == "hit" || cache == "-")
    );
}

/// The model file of a run of the test project with `label_model` as its `[label_model]`.
fn model_of_run(label_model: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let project = toml_project(dir.path(), None);
    let settings = std::fs::read_to_string(&project).unwrap();
    std::fs::write(
        &project,
        format!("{settings}\n[label_model]\n{label_model}"),
    )
    .unwrap();
    run(dir.path());
    let run_dir = &runs(dir.path())[0];
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("model.json")).unwrap()).unwrap()
}

/// The class balance of the dev split's gold labels, counted by hand: (rows of the class + 1)
/// / (labelled rows + 2).
fn dev_balance_by_hand() -> [f64; 2] {
    let dev: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("datasets/youtube/valid.json")).unwrap(),
    )
    .unwrap();
    let spam = dev
        .as_object()
        .unwrap()
        .values()
        .filter(|row| row["label"] == 1)
        .count() as f64;
    let rows = dev.as_object().unwrap().len() as f64;
    let expected = [
        (rows - spam + 1.0) / (rows + 2.0),
        (spam + 1.0) / (rows + 2.0),
    ];
    assert_ne!(
        expected[0], 0.5,
        "the dev split is not balanced, so the tests tell"
    );
    expected
}

fn assert_balance(model: &serde_json::Value, expected: [f64; 2]) {
    let balance = model["class_balance"].as_array().unwrap();
    for (got, want) in balance.iter().zip(expected) {
        assert!(
            (got.as_f64().unwrap() - want).abs() < 1e-12,
            "{balance:?} vs {expected:?}"
        );
    }
}

fn is_dev_source(source: &serde_json::Value) -> bool {
    let source = source.as_str().unwrap_or_default();
    source.starts_with("gold labels of the dev split (") && source.ends_with("valid.json:label)")
}

/// `class_balance = "dev"` fits with the dev split's gold class balance, add-one smoothed;
/// `label_class_balance = "dev"` fits with the default balance (same LF parameters as a
/// default run, whose test keeps the balance uniform here) and labels with the dev split's.
#[test]
fn class_balance_from_the_dev_split() {
    let expected = dev_balance_by_hand();
    let fitted = model_of_run("class_balance = \"dev\"\n");
    assert_balance(&fitted, expected);
    assert!(
        is_dev_source(&fitted["fit_options"]["class_balance"]),
        "{fitted}"
    );
    assert!(fitted["fit_options"].get("label_class_balance").is_none());

    let labelling = model_of_run("label_class_balance = \"dev\"\n");
    assert_balance(&labelling, expected);
    assert_eq!(labelling["fit_options"]["class_balance"], "auto");
    assert!(
        is_dev_source(&labelling["fit_options"]["label_class_balance"]),
        "{labelling}"
    );
    let default = model_of_run("model = \"generative\"\n");
    assert_balance(&default, [0.5, 0.5]);
    assert_eq!(
        labelling["parameters"]["coverage"],
        default["parameters"]["coverage"]
    );
    assert_eq!(
        labelling["parameters"]["confusion"],
        default["parameters"]["confusion"]
    );
    assert_ne!(
        fitted["parameters"]["coverage"],
        default["parameters"]["coverage"]
    );
}

/// Editing one LF re-applies only that LF (on every split), adding one applies one, and
/// everything downstream is redone; `runs` and `runs diff` tell what changed.
#[test]
fn editing_one_lf_reapplies_only_that_lf() {
    let dir = tempfile::tempdir().unwrap();
    toml_project(dir.path(), None);
    run(dir.path());
    let lfs = std::fs::read_to_string(dir.path().join("lfs.toml")).unwrap();
    let edited = lfs.replace(
        "keywords = [\"my\"]",
        "keywords = [\"my channel\", \"my page\"]",
    );
    assert_ne!(edited, lfs);
    std::fs::write(dir.path().join("lfs.toml"), &edited).unwrap();
    let (_, stderr) = run(dir.path());
    let second = stages(&stderr);
    for split in ["train", "dev", "test"] {
        let (_, cache, detail) = second
            .iter()
            .find(|(name, _, _)| *name == format!("apply.{split}"))
            .unwrap();
        assert_eq!(cache, "partial");
        assert_eq!(detail, &format!("{split}: 1 of 7 LF columns applied"));
    }
    for stage in ["fit", "label", "train", "evaluate"] {
        assert_eq!(cache_of(&second, stage), "miss", "{stage}");
    }
    // One more LF.
    let added = format!(
        "{edited}\n[[lf]]\nname = \"keyword_free\"\nkind = \"keyword\"\ncolumn = \"text\"\nkeywords = [\"free\"]\nlabel = \"SPAM\"\n"
    );
    std::fs::write(dir.path().join("lfs.toml"), added).unwrap();
    let (_, stderr) = run(dir.path());
    let (_, _, detail) = stages(&stderr)
        .into_iter()
        .find(|(name, _, _)| name == "apply.train")
        .unwrap();
    assert_eq!(detail, "train: 1 of 8 LF columns applied");

    let listing = success(&labelgen(dir.path(), &["runs"]));
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 4, "{listing}");
    assert!(lines[1].ends_with("first run"), "{listing}");
    assert!(lines[2].contains("LF changed: keyword_my"), "{listing}");
    assert!(lines[3].contains("LF added: keyword_free"), "{listing}");

    let ids: Vec<String> = runs(dir.path())
        .iter()
        .map(|run| run.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let diff = success(&labelgen(dir.path(), &["runs", "diff", &ids[0], &ids[1]]));
    let redacted = diff
        .replace(&ids[0], "RUN_A")
        .replace(&ids[1], "RUN_B")
        .replace(&dir.path().display().to_string(), "PROJECT");
    insta::assert_snapshot!(redacted);
}

/// A changed train file redoes train and everything after it, and reuses the dev and test
/// matrices.
#[test]
fn a_changed_data_file_invalidates_what_depends_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.json");
    std::fs::copy(repo_path("datasets/youtube/train.json"), &train).unwrap();
    toml_project(dir.path(), Some(&train));
    run(dir.path());
    // Same rows, one comment's text edited.
    let text = std::fs::read_to_string(&train).unwrap();
    let changed = text.replacen("\"text\": \"", "\"text\": \"subscribe ", 1);
    assert_ne!(changed, text);
    std::fs::write(&train, changed).unwrap();
    let (_, stderr) = run(dir.path());
    let second = stages(&stderr);
    assert_eq!(cache_of(&second, "apply.train"), "miss");
    assert_eq!(cache_of(&second, "apply.dev"), "hit");
    assert_eq!(cache_of(&second, "matrix.test"), "hit");
    for stage in [
        "matrix.train",
        "fit",
        "analyze",
        "label",
        "train",
        "evaluate",
    ] {
        assert_eq!(cache_of(&second, stage), "miss", "{stage}");
    }
    let listing = success(&labelgen(dir.path(), &["runs"]));
    assert!(listing.contains("input changed: data.train"), "{listing}");
}

/// kill -9 at several points of a run leaves earlier runs and the cache usable: the next run
/// completes with exactly the outputs of an undisturbed run. A damaged cache entry is found by
/// its hash and rebuilt. A held lock is refused with a clear message.
#[test]
fn interruption_corruption_and_the_lock() {
    let clean = tempfile::tempdir().unwrap();
    toml_project(clean.path(), None);
    run(clean.path());
    let reference = metrics(&runs(clean.path())[0]);

    let dir = tempfile::tempdir().unwrap();
    toml_project(dir.path(), None);
    for delay in [5u64, 30, 80, 200] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_labelgen"))
            .arg("run")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        // Start over from scratch between kills, except the cache.
        let _ = std::fs::remove_dir_all(dir.path().join("runs"));
    }
    run(dir.path());
    let done = runs(dir.path());
    assert_eq!(done.len(), 1);
    assert_eq!(metrics(&done[0]), reference);

    // Flip a byte of a cached LF column.
    let columns = dir.path().join(".labelgen/cache/lf-column");
    let entry = std::fs::read_dir(&columns)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let votes = entry.join("votes.i8");
    let mut bytes = std::fs::read(&votes).unwrap();
    bytes[0] = if bytes[0] == 0 { 1 } else { 0 };
    std::fs::write(&votes, bytes).unwrap();
    let (stdout, stderr) = run(dir.path());
    assert!(
        stdout.contains("damaged cache entries were found and rebuilt"),
        "{stdout}"
    );
    assert!(
        stages(&stderr)
            .iter()
            .any(|(name, cache, _)| name.starts_with("apply.") && cache == "partial")
    );
    assert_eq!(metrics(runs(dir.path()).last().unwrap()), reference);

    // Another process holds the lock.
    let lock = std::fs::File::options()
        .write(true)
        .open(dir.path().join(".labelgen/lock"))
        .unwrap();
    lock.lock().unwrap();
    let error = failure(&labelgen(dir.path(), &["run"]));
    assert!(
        error.contains("another `labelgen run` is using this project"),
        "{error}"
    );
}

#[test]
fn init_compare_and_bad_project_files() {
    let dir = tempfile::tempdir().unwrap();
    success(&labelgen(dir.path(), &["init", "demo"]));
    for file in [
        "labelgen.toml",
        "lfs.toml",
        "data/train.csv",
        "data/dev.csv",
        "plugin/Cargo.toml",
        "plugin/src/lib.rs",
    ] {
        assert!(dir.path().join("demo").join(file).is_file(), "{file}");
    }
    let project = dir.path().join("demo");
    let (stdout, _) = run(&project);
    assert!(stdout.contains("label model (generative)"), "{stdout}");
    let error = failure(&labelgen(dir.path(), &["init", "demo"]));
    assert!(error.contains("already has a labelgen.toml"), "{error}");

    let ranking = success(&labelgen(&project, &["compare"]));
    let lines: Vec<&str> = ranking.lines().collect();
    assert!(lines[0].starts_with("rank model"), "{ranking}");
    let models: Vec<&str> = lines[1..5]
        .iter()
        .map(|line| line.split_whitespace().nth(1).unwrap())
        .collect();
    let mut sorted = models.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["dawid-skene", "generative", "majority", "snorkel"],
        "{ranking}"
    );

    let settings = std::fs::read_to_string(project.join("labelgen.toml")).unwrap();
    std::fs::write(
        project.join("labelgen.toml"),
        settings.replace("seed = 123", "seed = 123\nsede = 4"),
    )
    .unwrap();
    let error = failure(&labelgen(&project, &["run"]));
    assert!(
        error.contains("unknown field `sede`") && error.contains("line 5"),
        "{error}"
    );
    let error = failure(&labelgen(dir.path(), &["run"]));
    assert!(
        error.contains("cannot read project file `labelgen.toml`"),
        "{error}"
    );
}

/// Item 5: a run folder holds its own copies: editing a later run's file, or damaging the
/// cache in place, leaves earlier runs as they were.
#[test]
fn run_folders_share_no_file_with_the_cache_or_each_other() {
    use std::io::{Seek, Write};
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    toml_project(dir.path(), None);
    run(dir.path());
    run(dir.path());
    let done = runs(dir.path());
    let (first, second) = (&done[0], &done[1]);
    let first_files: Vec<(String, Vec<u8>)> = files_in(first)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(first.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    std::fs::write(second.join("metrics.json"), "{}").unwrap();
    // Damage the cached model in place, as a disk error or a careless edit would.
    let fit = dir.path().join(".labelgen/cache/fit");
    let entry = std::fs::read_dir(&fit)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let mut model = std::fs::OpenOptions::new()
        .write(true)
        .open(entry.join("model.json"))
        .unwrap();
    model.seek(std::io::SeekFrom::Start(10)).unwrap();
    model.write_all(b"damaged").unwrap();
    drop(model);
    for (name, bytes) in &first_files {
        assert!(
            std::fs::read(first.join(name)).unwrap() == *bytes,
            "{name} of the first run changed"
        );
    }
    for (name, _) in &first_files {
        assert_eq!(
            std::fs::metadata(first.join(name)).unwrap().nlink(),
            1,
            "{name} is linked"
        );
    }
}

/// A process id that no process has (a child that has exited and been reaped).
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// Item 10: what a killed `apply` or `run` leaves behind is removed by the next one, never
/// what a live process is writing.
#[test]
fn leftovers_of_killed_processes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::copy(
        repo_path("labeling_functions/youtube_spam.toml"),
        path.join("lfs.toml"),
    )
    .unwrap();
    let mut data = String::from("id,text\n");
    for row in 0..400_000 {
        data.push_str(&format!("{row},check out my channel and subscribe {row}\n"));
    }
    std::fs::write(path.join("data.csv"), data).unwrap();
    // kill -9 while `apply` works: its temporary output stays.
    let mut child = Command::new(env!("CARGO_BIN_EXE_labelgen"))
        .current_dir(path)
        .args([
            "apply",
            "data.csv",
            "--lfs",
            "lfs.toml",
            "-o",
            "L.parquet",
            "-q",
        ])
        .spawn()
        .unwrap();
    let partials = |path: &Path| -> Vec<String> {
        files_in(path)
            .into_iter()
            .filter(|name| name.ends_with(".partial"))
            .collect()
    };
    while partials(path).is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "apply ended first");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = partials(path);
    assert_eq!(left.len(), 1, "{left:?}");
    // One a live process writes (this test's own id stands for it).
    let live = format!(".labelgen-{}-abcdef.partial", std::process::id());
    std::fs::write(path.join(&live), "being written").unwrap();
    success(&labelgen(
        path,
        &[
            "apply", "data.csv", "--lfs", "lfs.toml", "-o", "L.csv", "-q",
        ],
    ));
    assert_eq!(partials(path), std::slice::from_ref(&live));

    // A run's: cache files being written and a run folder of a dead process.
    toml_project(path, None);
    let stale_cache = path.join(".labelgen/cache/tmp/fit-stale");
    std::fs::create_dir_all(&stale_cache).unwrap();
    std::fs::write(stale_cache.join("model.json"), "{").unwrap();
    let stale_run = path.join(format!(
        "runs/.20300101-000000-abcdef.{}.partial",
        dead_pid()
    ));
    let live_run = path.join(format!(
        "runs/.20300101-000000-fedcba.{}.partial",
        std::process::id()
    ));
    for folder in [&stale_run, &live_run] {
        std::fs::create_dir_all(folder).unwrap();
        std::fs::write(folder.join("metrics.json"), "{}").unwrap();
    }
    run(path);
    assert!(!stale_cache.exists());
    assert!(!stale_run.exists());
    assert!(live_run.exists());
}

/// Item 11: runs are listed in the order they ran, even when they started in the same second
/// and their ids' random parts sort the other way.
#[test]
fn runs_of_one_second_are_listed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let project = toml_project(dir.path(), None);
    run(dir.path());
    let settings = std::fs::read_to_string(&project).unwrap();
    std::fs::write(
        &project,
        settings.replace("name = \"test\"", "name = \"test\"\nseed = 9"),
    )
    .unwrap();
    run(dir.path());
    let done = runs(dir.path());
    // Give both the same start second, with ids whose random parts sort in reverse.
    for (folder, id) in done
        .iter()
        .zip(["20300101-000000-ffffff", "20300101-000000-000000"])
    {
        let manifest_path = folder.join("manifest.json");
        let mut manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
        manifest["run_id"] = id.into();
        manifest["started"] = "2030-01-01T00:00:00Z".into();
        std::fs::write(&manifest_path, manifest.to_string()).unwrap();
        std::fs::rename(folder, dir.path().join("runs").join(id)).unwrap();
    }
    let listing = success(&labelgen(dir.path(), &["runs"]));
    let lines: Vec<&str> = listing.lines().collect();
    assert!(
        lines[1].starts_with("20300101-000000-ffffff") && lines[1].ends_with("first run"),
        "{listing}"
    );
    assert!(
        lines[2].starts_with("20300101-000000-000000") && lines[2].contains("seed"),
        "{listing}"
    );
}

/// Item 12: the first build of a plugin crate writes its Cargo.lock; the next run, with
/// nothing changed by the user, still takes everything from the cache and records the same
/// inputs.
#[test]
fn a_plugin_crate_is_built_once() {
    let dir = tempfile::tempdir().unwrap();
    success(&labelgen(dir.path(), &["init", "demo"]));
    let project = dir.path().join("demo");
    assert!(!project.join("plugin/Cargo.lock").exists());
    let settings = std::fs::read_to_string(project.join("labelgen.toml")).unwrap();
    let enabled = settings.replace("# plugins = [\"plugin\"]", "plugins = [\"plugin\"]");
    assert_ne!(enabled, settings);
    std::fs::write(project.join("labelgen.toml"), enabled).unwrap();
    let (_, stderr) = run(&project);
    assert_eq!(cache_of(&stages(&stderr), "plugins"), "miss");
    assert!(project.join("plugin/Cargo.lock").exists());
    let (stdout, stderr) = run(&project);
    assert_eq!(cache_of(&stages(&stderr), "plugins"), "hit", "{stderr}");
    assert!(stdout.starts_with("nothing changed"), "{stdout}");
    let ids: Vec<String> = runs(&project)
        .iter()
        .map(|run| run.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let diff = success(&labelgen(&project, &["runs", "diff", &ids[0], &ids[1]]));
    assert!(diff.contains("same data, LFs and settings"), "{diff}");
}
