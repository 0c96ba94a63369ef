//! Faults outside labelgen: standard output closed early (`labelgen runs | head -1`) or on a
//! full disk (`> /dev/full`), and a file system that fills up while an output is written
//! (simulated with a file-size limit, `RLIMIT_FSIZE`). A closed pipe ends a command quietly
//! with success; a full disk is an error; no command panics, and a failed write leaves the
//! previous file as it was and no temporary file behind.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;

/// A folder where every command has its inputs: the youtube splits, the tutorial LFs, a
/// fitted model, labels with texts, a classifier, predictions, and a project with two runs.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    for split in ["train", "test", "valid", "label"] {
        std::fs::copy(
            repo_path(&format!("datasets/youtube/{split}.json")),
            path.join(format!("{split}.json")),
        )
        .unwrap();
    }
    std::fs::copy(youtube_toml(), path.join("lfs.toml")).unwrap();
    for args in [
        &["fit", "train.json", "-o", "model.json"][..],
        &[
            "label",
            "model.json",
            "test.json",
            "-o",
            "labels.csv",
            "--data",
            "test.json",
        ],
        &[
            "label",
            "model.json",
            "train.json",
            "-o",
            "train_labels.csv",
            "--data",
            "train.json",
            "--keep-columns",
            "text",
        ],
        &[
            "train",
            "train_labels.csv",
            "-o",
            "classifier.json",
            "--max-iterations",
            "20",
        ],
        &[
            "predict",
            "classifier.json",
            "test.json",
            "-o",
            "predictions.csv",
        ],
        &["init", "project"],
    ] {
        success(&labelgen(path, args));
    }
    let project = path.join("project");
    success(&labelgen(&project, &["run"]));
    let settings = std::fs::read_to_string(project.join("labelgen.toml")).unwrap();
    std::fs::write(
        project.join("labelgen.toml"),
        settings.replace("seed = 123", "seed = 7"),
    )
    .unwrap();
    success(&labelgen(&project, &["run"]));
    dir
}

/// Every command that prints to standard output, as (folder under the workspace, arguments).
fn printing_commands() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (
            "",
            vec![
                "apply",
                "train.json",
                "--lfs",
                "lfs.toml",
                "-o",
                "L.parquet",
            ],
        ),
        ("", vec!["fit", "train.json", "-o", "model2.json"]),
        (
            "",
            vec!["label", "model.json", "test.json", "-o", "labels2.csv"],
        ),
        ("", vec!["score", "model.json", "test.json"]),
        ("", vec!["score", "model.json", "test.json", "--json"]),
        ("", vec!["analyze", "test.json"]),
        (
            "",
            vec![
                "train",
                "train_labels.csv",
                "-o",
                "classifier2.json",
                "--max-iterations",
                "5",
            ],
        ),
        (
            "",
            vec![
                "predict",
                "classifier.json",
                "test.json",
                "-o",
                "predictions2.csv",
            ],
        ),
        (
            "",
            vec!["evaluate", "predictions.csv", "--gold", "test.json:label"],
        ),
        ("", vec!["init", "another"]),
        ("project", vec!["runs"]),
        ("project", vec!["runs", "diff", "2", "2"]),
        ("project", vec!["run"]),
        ("project", vec!["compare"]),
    ]
}

/// `labelgen args` in `dir` with standard output `stdout`.
fn run_with_stdout(dir: &Path, args: &[&str], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labelgen"))
        .current_dir(dir)
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("labelgen runs")
}

/// The write end of a pipe whose read end is already closed, as `head -1` leaves it.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are new and owned here; the read end is closed at once.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

/// `runs diff` takes run ids: the workspace's two runs, oldest first.
fn with_run_ids(dir: &Path, args: &[&'static str]) -> Vec<String> {
    let mut ids: Vec<String> = files_in(&dir.join("project/runs"))
        .into_iter()
        .filter(|name| !name.starts_with('.'))
        .collect();
    ids.sort();
    match args {
        ["runs", "diff", ..] => vec!["runs".into(), "diff".into(), ids[0].clone(), ids[1].clone()],
        _ => args.iter().map(|arg| (*arg).to_owned()).collect(),
    }
}

/// Item 8: standard output closed early ends every command quietly with success; on a full
/// disk every command fails with a message. None panics.
#[test]
fn a_closed_or_full_standard_output_never_panics() {
    let dir = workspace();
    for (folder, args) in printing_commands() {
        let folder = dir.path().join(folder);
        let args = with_run_ids(dir.path(), &args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = std::fs::remove_dir_all(dir.path().join("another"));
        let output = run_with_stdout(&folder, &args, closed_pipe());
        let message = stderr(&output);
        assert!(
            output.status.success() && !message.contains("panicked"),
            "{args:?} with a closed pipe: {:?}\n{message}",
            output.status
        );
        assert_eq!(message.matches("error").count(), 0, "{args:?}: {message}");

        let _ = std::fs::remove_dir_all(dir.path().join("another"));
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = run_with_stdout(&folder, &args, Stdio::from(full));
        let message = failure(&output);
        assert!(
            message.contains("cannot write to standard output")
                && message.contains("No space left on device"),
            "{args:?} on a full disk: {message}"
        );
    }
}

/// `labelgen args` in `dir` with files limited to `bytes` (writing past it fails with EFBIG,
/// as on a full disk; the signal that would kill the process is ignored).
fn with_file_limit(dir: &Path, args: &[&str], bytes: u64) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_labelgen"));
    command.current_dir(dir).args(args);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().expect("labelgen runs")
}

/// Every file under `dir`, with its bytes.
fn contents(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for item in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = item.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The fault test of the writers: every kind of output, written over an existing file on a
/// file system that fills up after 1 KiB, fails cleanly, and the existing file survives.
#[test]
fn a_full_file_system_leaves_every_previous_output_as_it_was() {
    let dir = workspace();
    let path = dir.path();
    let outputs: Vec<Vec<&str>> = vec![
        vec![
            "apply",
            "train.json",
            "--lfs",
            "lfs.toml",
            "-o",
            "L.parquet",
        ],
        vec!["apply", "train.json", "--lfs", "lfs.toml", "-o", "L.csv"],
        vec![
            "fit",
            "train.json",
            "-o",
            "model.json",
            "--model",
            "dawid-skene",
        ],
        vec!["label", "model.json", "test.json", "-o", "labels.parquet"],
        vec!["label", "model.json", "test.json", "-o", "labels.csv"],
        vec![
            "analyze",
            "test.json",
            "--format",
            "json",
            "-o",
            "summary.json",
        ],
        vec!["analyze", "test.json", "--html", "report.html"],
        vec![
            "train",
            "train_labels.csv",
            "-o",
            "classifier.json",
            "--max-iterations",
            "5",
        ],
        vec![
            "predict",
            "classifier.json",
            "test.json",
            "-o",
            "predictions.parquet",
        ],
        vec![
            "predict",
            "classifier.json",
            "valid.json",
            "-o",
            "predictions.csv",
        ],
    ];
    for args in &outputs {
        // The previous file: written without a limit (its content differs from the next one's
        // where the inputs allow).
        success(&labelgen(path, args));
    }
    let before = contents(path);
    for args in &outputs {
        let message = failure(&with_file_limit(path, args, 1024));
        assert!(
            message.contains("File too large"),
            "{args:?} did not fail on the write: {message}"
        );
        assert!(
            contents(path) == before,
            "{args:?} changed a file or left one behind"
        );
    }
    // A run: the cache and earlier runs survive, and the next run completes.
    let project = path.join("project");
    let runs_before = contents(&project.join("runs"));
    let settings = std::fs::read_to_string(project.join("labelgen.toml")).unwrap();
    std::fs::write(
        project.join("labelgen.toml"),
        settings.replace("seed = 7", "seed = 8"),
    )
    .unwrap();
    let message = failure(&with_file_limit(&project, &["run"], 1024));
    assert!(message.contains("File too large"), "{message}");
    assert!(contents(&project.join("runs")) == runs_before);
    assert!(files_in(&project.join(".labelgen/cache/tmp")).is_empty());
    success(&labelgen(&project, &["run"]));
}
