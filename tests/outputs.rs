//! Outputs are never lost: a job refuses to write over its own input or to write one file
//! twice (at check time, and again at start after `--input`/`--output`), and replaces its
//! results only when it succeeds, so a failed, refused or interrupted run leaves the
//! previous results intact and no temporary file behind.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn check(dir: &Path, text: &str) -> (u8, String) {
    let path = dir.join("job.pipe");
    std::fs::write(&path, text).unwrap();
    let run = weir_cli(&["check", path.to_str().unwrap()]);
    (run.code, run.err)
}

/// The files in `dir`, sorted: what a run left there.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_sink_on_the_jobs_own_input_or_two_sinks_on_one_file_do_not_check() {
    let dir = temp();
    let (code, err) = check(
        dir.path(),
        "schema E { a: u64 }\nsource e: E = csv(\"same.csv\");\ne |> sink csv(\"same.csv\");\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "source `e` and sink `same` use `same.csv`: the job would overwrite its own input"
        ),
        "{err}"
    );
    assert!(err.contains("job.pipe:3:6"), "at the sink: {err}");

    let (code, err) = check(
        dir.path(),
        "schema E { a: u64 }\nsource e: E = csv(\"in.csv\");\n\
         e |> sink a = csv(\"o.csv\");\ne |> sink b = csv(\"./o.csv\");\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("sink `a` and sink `b` both write `./o.csv`"),
        "{err}"
    );

    let (code, err) = check(
        dir.path(),
        "schema E { a: u64 }\nsource e: E = csv(\"in.csv\") with on_error(dead_letter(\"o.csv\"));\n\
         e |> sink csv(\"o.csv\");\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the dead-letter file of source `e` and sink `o` both write"),
        "{err}"
    );

    let (code, err) = check(
        dir.path(),
        "source a = stdin();\nsource b = stdin();\na |> union(b) |> sink stdout();\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("both read standard input"), "{err}");
}

const COPY: &str = "schema Row { id: u64 }\n\
    source rows: Row = csv(\"in.csv\");\n\
    rows |> sink first = csv(\"first.csv\");\n\
    rows |> filter(id > 1) |> sink second = csv(\"second.csv\");\n";

/// A job copying `in.csv` (ids 1, 2, 3) to two sinks, built in its own folder, with a
/// first successful run's results in place.
fn copy_job() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = temp();
    let pipe = dir.path().join("copy.pipe");
    std::fs::write(&pipe, COPY).unwrap();
    std::fs::write(dir.path().join("in.csv"), "id\n1\n2\n3\n").unwrap();
    let bin = build(&pipe);
    let ok = Command::new(&bin).current_dir(dir.path()).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    (dir, bin)
}

fn results(dir: &Path) -> (String, String) {
    (
        std::fs::read_to_string(dir.join("first.csv")).unwrap(),
        std::fs::read_to_string(dir.join("second.csv")).unwrap(),
    )
}

#[test]
fn an_output_pointed_at_an_input_is_refused_before_anything_is_written() {
    let (dir, bin) = copy_job();
    let before = listing(dir.path());
    let out = Command::new(&bin)
        .args(["--output", "first=./in.csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("source `rows` and sink `first`"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("in.csv")).unwrap(),
        "id\n1\n2\n3\n"
    );
    assert_eq!(listing(dir.path()), before);
}

/// An output through a symbolic link replaces the file the link names and keeps the link;
/// on two workers too (the parts are joined beside the file, not the link).
#[test]
fn an_output_through_a_link_replaces_the_file_it_names_and_keeps_the_link() {
    let (dir, bin) = copy_job();
    let d = dir.path();
    std::fs::create_dir(d.join("kept")).unwrap();
    std::fs::write(d.join("kept/first.csv"), "old\n").unwrap();
    std::os::unix::fs::symlink("kept/first.csv", d.join("link.csv")).unwrap();
    for workers in ["1", "2"] {
        let out = Command::new(&bin)
            .args(["--output", "first=link.csv", "--parallelism", workers])
            .current_dir(d)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(
            std::fs::symlink_metadata(d.join("link.csv"))
                .unwrap()
                .file_type()
                .is_symlink(),
            "on {workers} worker(s) the link was replaced"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("kept/first.csv")).unwrap(),
            "id\n1\n2\n3\n"
        );
        let left: Vec<String> = listing(&d.join("kept"));
        assert_eq!(left, ["first.csv"], "on {workers} worker(s)");
    }
}

/// `--output NAME=/dev/stdout` writes standard output, as `-` does, whatever standard
/// output is: here a regular file, which a replaced output would have renamed over the
/// `/dev/stdout` link itself. A second sink on standard output is refused as with `-`.
#[test]
fn dev_stdout_as_an_output_is_standard_output() {
    let (dir, bin) = copy_job();
    let d = dir.path();
    for (workers, path) in [
        ("1", "/dev/stdout"),
        ("2", "/dev/stdout"),
        ("1", "/dev/fd/1"),
    ] {
        let captured = d.join(format!("captured-{workers}.txt"));
        std::fs::write(&captured, "").unwrap();
        let out = Command::new(&bin)
            .args([
                "--output",
                &format!("first={path}"),
                "--parallelism",
                workers,
            ])
            .current_dir(d)
            .stdout(std::fs::File::create(&captured).unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert_eq!(
            std::fs::read_to_string(&captured).unwrap(),
            "id\n1\n2\n3\n",
            "{path} on {workers} worker(s)"
        );
        assert!(
            std::fs::symlink_metadata("/dev/stdout").map_or(true, |m| m.file_type().is_symlink()),
            "the run replaced /dev/stdout"
        );
    }
    let out = Command::new(&bin)
        .args(["--output", "first=/dev/stdout", "--output", "second=-"])
        .current_dir(d)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("both write standard output"), "{err}");
}

/// A named pipe as an output is written directly, never replaced; on several workers
/// the other workers' parts follow worker 0's at commit, as the parts of standard output
/// do, so the reader gets whole lines in one file's order (written by each worker as it
/// went, the pipe once got lines torn apart). `/dev/stderr` on a file gets the output and
/// then weir's report, neither over the other.
#[test]
fn a_named_pipe_and_dev_stderr_as_outputs_get_whole_lines_in_order_on_every_parallelism() {
    let dir = temp();
    let d = dir.path();
    let pipe = d.join("copy.pipe");
    std::fs::write(
        &pipe,
        "schema Row { id: u64, name: str }\nsource rows: Row = csv(\"in.csv\");\n\
         rows |> sink first = csv(\"first.csv\");\n",
    )
    .unwrap();
    let mut rows = String::from("id,name\n");
    for i in 0..300_000 {
        rows.push_str(&format!("{i},name{}xxxxxxxxxxxxxxxxxxxx\n", i % 977));
    }
    std::fs::write(d.join("in.csv"), &rows).unwrap();
    let bin = build(&pipe);
    let fifo = d.join("out.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for workers in ["1", "2", "3"] {
        let read = d.join(format!("read-{workers}.csv"));
        // A process, not a thread: a job that never opened the pipe leaves it blocked.
        let mut reader = Command::new("sh")
            .arg("-c")
            .arg(format!("cat '{}' > '{}'", fifo.display(), read.display()))
            .spawn()
            .unwrap();
        let out = Command::new(&bin)
            .args(["--output", &format!("first={}", fifo.display())])
            .args(["--parallelism", workers])
            .current_dir(d)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{workers} worker(s): {err}");
        assert!(reader.wait().unwrap().success());
        let got = std::fs::read_to_string(&read).unwrap();
        assert!(
            got == rows,
            "{workers} worker(s): the pipe's reader got other bytes than the input's"
        );
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo(),
            "the pipe was replaced"
        );

        let log = d.join(format!("stderr-{workers}.txt"));
        let out = Command::new(&bin)
            .args(["--output", "first=/dev/stderr", "--parallelism", workers])
            .current_dir(d)
            .stderr(std::fs::File::create(&log).unwrap())
            .status()
            .unwrap();
        assert!(out.success());
        let logged = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            logged,
            format!("{rows}sink `first`: wrote 300000 record(s) to /dev/stderr\n"),
            "{workers} worker(s)"
        );
    }
}

#[test]
fn a_failed_run_leaves_the_previous_results_and_no_temporary_file() {
    let (dir, bin) = copy_job();
    let before = results(dir.path());
    let listed = listing(dir.path());
    assert_eq!(before.0, "id\n1\n2\n3\n");

    // A missing input.
    let out = Command::new(&bin)
        .args(["--input", "rows=missing.csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
    assert_eq!(results(dir.path()), before);
    assert_eq!(listing(dir.path()), listed);

    // A second sink that cannot be written (its path is a folder).
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let out = Command::new(&bin)
        .args(["--output", "second=taken"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(results(dir.path()), before);

    // A bad record half-way through the input.
    std::fs::write(dir.path().join("bad.csv"), "id\n7\nnope\n9\n").unwrap();
    let out = Command::new(&bin)
        .args(["--input", "rows=bad.csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(results(dir.path()), before);
    let mut listed = listed;
    listed.extend(["bad.csv".to_string(), "taken".to_string()]);
    listed.sort();
    assert_eq!(listing(dir.path()), listed, "no temporary file is left");
}

#[test]
fn sigterm_mid_run_leaves_the_previous_results_and_no_temporary_file() {
    let dir = temp();
    let pipe = dir.path().join("follow.pipe");
    std::fs::write(
        &pipe,
        "source lines = stdin();\nlines |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("out.csv"), "line\nprevious\n").unwrap();
    let bin = build(&pipe);
    let mut child = Command::new(&bin)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(b"one\ntwo\n").unwrap();
        stdin.flush().unwrap();
    }
    // Wait until the job has its temporary output open, then interrupt it mid-run (its
    // standard input is still open, so it is waiting for more).
    let start = Instant::now();
    while listing(dir.path())
        .iter()
        .all(|f| !f.ends_with(".weir-tmp"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the job never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    // Waiting closes the job's standard input unless it is taken first: the job would then
    // end at that end of input, racing the signal.
    let stdin = child.stdin.take();
    let mut stderr = child.stderr.take().unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "line\nprevious\n"
    );
    assert_eq!(listing(dir.path()), ["follow.pipe", "out.csv"]);
}

#[test]
fn a_reader_that_closes_early_ends_the_job_quietly() {
    let dir = temp();
    let input = dir.path().join("words.txt");
    let text: String = (0..200_000).map(|i| format!("w{i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let mut child = Command::new(&bin)
        .args(["--input", &format!("lines={}", input.display())])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first, "word,count\n");
        // The reader goes away here, as `head -1` would.
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A named pipe's reader that goes away ends the job as standard output's does: quietly,
/// exit 0, on one worker and on two (where it may go while worker 0 writes, or while the
/// commit copies worker 1's part after).
#[test]
fn a_named_pipes_reader_that_closes_early_ends_the_job_quietly() {
    let dir = temp();
    let input = dir.path().join("words.txt");
    let text: String = (0..200_000).map(|i| format!("w{i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let bin = build(Path::new("dsl-examples/wordcount.pipe"));
    let fifo = dir.path().join("counts.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for workers in ["1", "2"] {
        let first = dir.path().join(format!("first-{workers}.txt"));
        let reader = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "head -1 '{}' > '{}'",
                fifo.display(),
                first.display()
            ))
            .spawn()
            .unwrap();
        let out = Command::new(&bin)
            .args(["--input", &format!("lines={}", input.display())])
            .args(["--output", &format!("stdout={}", fifo.display())])
            .args(["--parallelism", workers])
            .current_dir(root())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{workers} worker(s): {err}");
        assert_eq!(err, "", "{workers} worker(s)");
        assert!(reader.wait_with_output().unwrap().status.success());
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "word,count\n");
    }
}

const THREE: &str = "schema Row { id: u64 }\n\
    source rows: Row = csv(\"in.csv\");\n\
    rows |> sink o1 = csv(\"o1.csv\");\n\
    rows |> filter(id > 1) |> sink o2 = csv(\"o2.csv\");\n\
    rows |> filter(id > 2) |> sink o3 = csv(\"o3.csv\");\n";

/// The bytes of every file in `dir`, by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    listing(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// A failed run of a job with three sinks, whatever the moment it fails, leaves every
/// earlier output byte-identical and no temporary file. The failing runs read other data
/// than the first run did, so an output replaced by mistake would show.
#[test]
fn a_run_failing_at_start_mid_run_or_at_commit_leaves_every_earlier_output() {
    let dir = temp();
    let pipe = dir.path().join("three.pipe");
    std::fs::write(&pipe, THREE).unwrap();
    std::fs::write(dir.path().join("in.csv"), "id\n1\n2\n3\n").unwrap();
    std::fs::write(dir.path().join("other.csv"), "id\n5\n6\n7\n8\n").unwrap();
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let bin = build(&pipe);
    let first = Command::new(&bin).current_dir(dir.path()).output().unwrap();
    assert!(first.status.success());
    let before = contents(dir.path());
    let o1 = std::fs::read_to_string(dir.path().join("o1.csv")).unwrap();
    assert_eq!(o1, "id\n1\n2\n3\n");

    // At start: a sink, or the report, pointed at a folder or at an empty path.
    for args in [
        &["--output", "o2=adir"][..],
        &["--output", "o3="],
        &["--stats-json", "adir"],
        &["--stats-json", ""],
        &["--output", "o1=", "--output", "o2=adir"],
    ] {
        let mut all = vec!["--input", "rows=other.csv"];
        all.extend_from_slice(args);
        let out = Command::new(&bin)
            .args(&all)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("directory") || err.contains("empty path"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("wrote"), "{args:?}: nothing ran: {err}");
        assert_eq!(contents(dir.path()), before, "{args:?}");
    }

    // Mid-run: a bad record after good ones.
    std::fs::write(dir.path().join("bad.csv"), "id\n5\n6\nnope\n8\n").unwrap();
    let out = Command::new(&bin)
        .args(["--input", "rows=bad.csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_file(dir.path().join("bad.csv")).unwrap();
    assert_eq!(contents(dir.path()), before);

    // At commit: o3's new target, or the report, became a folder while the job was
    // reading. The report is staged with the outputs, so it cannot be written fails the run
    // before any output is replaced.
    for (args, taken) in [
        (&["--output", "o3=later"][..], "later"),
        (&["--stats-json", "report.json"], "report.json"),
    ] {
        let err = fail_at_commit(dir.path(), &bin, args, taken);
        assert!(err.contains(taken), "{err}");
        assert_eq!(contents(dir.path()), before, "{args:?}");
    }
    assert!(
        listing(dir.path()).iter().all(|f| !f.contains(".weir-")),
        "{:?}",
        listing(dir.path())
    );
}

/// Runs `bin` on records from standard input with `args`, turns `taken` into a folder
/// once the job has its temporary outputs open, then ends the input: the commit fails
/// (exit 1). The folder is removed again; stderr is returned.
fn fail_at_commit(dir: &Path, bin: &Path, args: &[&str], taken: &str) -> String {
    let mut child = Command::new(bin)
        .args(["--input", "rows=-"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"id\n5\n6\n").unwrap();
    let start = Instant::now();
    while listing(dir).iter().all(|f| !f.ends_with(".weir-tmp")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the job never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::create_dir(dir.join(taken)).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    std::fs::remove_dir(dir.join(taken)).unwrap();
    err
}
