//! The command line: exit codes, one-line messages, the output-folder guard,
//! `--strict`, and `rules check`.

mod support;

use std::ffi::OsStr;
use std::fs;
use support::*;

fn os(args: &[&str]) -> Vec<&'static OsStr> {
    args.iter().map(|s| OsStr::new(Box::leak(s.to_string().into_boxed_str()))).collect()
}

#[test]
fn missing_corpus_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&tmp.path().join("nope"), &tmp.path().join("out"), &[]);
    assert!(!o.status.success());
    assert_ne!(o.status.code(), Some(2), "a missing corpus is not a usage error");
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.starts_with("anugerah: ") && err.contains("corpus") && err.contains("nope"), "stderr: {err}");
    assert!(!tmp.path().join("out").exists(), "no output folder for a failed run");
}

#[test]
fn usage_errors_exit_2() {
    for args in [vec!["run", "--no-such-flag"], vec![], vec!["frobnicate"], vec!["run", "--threads", "many"], vec!["explain"]] {
        let o = anugerah(&os(&args));
        assert_eq!(o.status.code(), Some(2), "args {args:?}: {}", text(&o.stderr));
    }
    let o = anugerah(&os(&["--help"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("run"));
}

#[test]
fn foreign_output_folder_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    let out = tmp.path().join("out");
    write(&out, "laporan.docx", "milik pengguna");
    write(&out, "mentions.csv", "my own table");

    let o = run(&corpus, &out, &[]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.contains("--force"), "stderr: {err}");
    assert_eq!(fs::read_to_string(out.join("mentions.csv")).unwrap(), "my own table", "refused run touched the folder");
    assert!(!out.join("mentions.parquet").exists());

    // --force never replaces a file anugerah did not write: it names the file.
    let o = run(&corpus, &out, &["--force"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.contains("mentions.csv") && err.contains("--force never replaces"), "stderr: {err}");
    assert_eq!(fs::read_to_string(out.join("mentions.csv")).unwrap(), "my own table", "--force overwrote a foreign table");
    assert!(!out.join("mentions.parquet").exists() && !out.join(".anugerah-output").exists() && !out.join(".anugerah-state").exists());

    // The same for every name anugerah writes or deletes (state folder, shard marker, temporary files).
    for name in [".anugerah-state", ".anugerah-shard", ".summary.csv.tmp", "errors.parquet"] {
        let dir = tmp.path().join(format!("out-{name}"));
        write(&dir, name, "not anugerah's");
        let o = run(&corpus, &dir, &["--force"]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(text(&o.stderr).contains(name), "{name}: {}", text(&o.stderr));
        assert_eq!(fs::read_to_string(dir.join(name)).unwrap(), "not anugerah's", "{name}");
    }

    // Without the clashing file, --force writes beside the user's other files.
    fs::rename(out.join("mentions.csv"), tmp.path().join("mentions-mine.csv")).unwrap();
    run_ok(&corpus, &out, &["--force"]);
    assert!(out.join("mentions.parquet").is_file());
    assert_eq!(fs::read_to_string(out.join("laporan.docx")).unwrap(), "milik pengguna", "--force must leave other files alone");
    // Once anugerah owns the folder, later runs need no --force.
    run_ok(&corpus, &out, &[]);
}

#[test]
fn empty_existing_output_folder_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    run_ok(&corpus, &out, &[]);
}

#[test]
fn output_path_that_is_a_file_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    let out = write(tmp.path(), "out", "a file");
    let o = run(&corpus, &out, &["--force"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert_eq!(fs::read_to_string(&out).unwrap(), "a file");
}

#[test]
fn unwritable_output_folder_is_a_one_line_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    if permissions_ignored(tmp.path()) {
        eprintln!("skipped: permissions are not enforced for this user (root)");
        return;
    }
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    let locked = tmp.path().join("locked");
    fs::create_dir_all(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    let o = run(&corpus, &locked.join("out"), &[]);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.contains("cannot write"), "stderr: {err}");
}

#[test]
fn strict_fails_only_when_an_error_row_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    let o = run(&corpus, &tmp.path().join("out1"), &["--strict"]);
    assert_eq!(o.status.code(), Some(0), "clean corpus with --strict: {}", text(&o.stderr));

    write(&corpus, "kosong.txt", b"");
    let o = run(&corpus, &tmp.path().join("out2"), &[]);
    assert_eq!(o.status.code(), Some(0), "errors rows alone do not fail a run");
    assert!(text(&o.stdout).contains("1 errors"), "{}", text(&o.stdout));
    let o = run(&corpus, &tmp.path().join("out3"), &["--strict"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(tmp.path().join("out3/errors.csv").is_file(), "--strict still writes the tables");
}

#[test]
fn explain_prints_mentions() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "sleman.txt", GOOD_TXT);
    let o = anugerah(&[OsStr::new("explain"), f.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("MENTION Kabupaten Sleman"), "{}", text(&o.stdout));

    let j = write(tmp.path(), "k.jsonl", format!("{GOOD_JSONL_K1}\n{GOOD_JSONL_K2}\n"));
    let o = anugerah(&[OsStr::new("explain"), j.as_os_str(), OsStr::new("--id"), OsStr::new("k2")]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    assert!(out.contains("k.jsonl#k2") && !out.contains("k.jsonl#k1"), "{out}");

    let o = anugerah(&[OsStr::new("explain"), tmp.path().join("missing.txt").as_os_str()]);
    assert!(!o.status.success());
    assert_eq!(text(&o.stderr).trim_end().lines().count(), 1, "{}", text(&o.stderr));
}

#[test]
fn rules_check_passes_on_embedded_rules() {
    let o = anugerah(&os(&["rules", "check"]));
    let out = text(&o.stdout);
    assert!(o.status.success(), "stdout: {out}\nstderr: {}", text(&o.stderr));
    assert!(out.contains(" 0 failed"), "{out}");
    assert!(out.contains("0 overridden"), "{out}");
}

#[test]
fn rules_check_reports_a_bad_regex() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    write(&rules, "programs.toml", "[[program]]\nname = \"Anugerah Rusak\"\npatterns = ['Anugerah\\s+(Rusak']\n");
    let o = anugerah(&[OsStr::new("rules"), OsStr::new("check"), OsStr::new("--rules"), rules.as_os_str()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("anugerah: "), "stderr: {err}");
    assert!(first.contains("programs.toml") && first.contains("Anugerah\\s+(Rusak"), "the first line names the file and the pattern: {err}");

    // `run` with the same folder refuses to start, and says why.
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    let out = tmp.path().join("out");
    let o = run(&corpus, &out, &["--rules", rules.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("programs.toml"), "{}", text(&o.stderr));
}

#[test]
fn rules_override_is_used_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    let embedded = include_str!("../rules/programs.toml");
    write(&rules, "programs.toml", embedded);
    let o = anugerah(&[OsStr::new("rules"), OsStr::new("check"), OsStr::new("--rules"), rules.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("1 overridden"), "{}", text(&o.stdout));

    // A TOML syntax error is reported with its file name.
    write(&rules, "ranks.toml", "this is = = not toml");
    let o = anugerah(&[OsStr::new("rules"), OsStr::new("check"), OsStr::new("--rules"), rules.as_os_str()]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("ranks.toml"), "{}", text(&o.stderr));

    let o = anugerah(&[OsStr::new("rules"), OsStr::new("check"), OsStr::new("--rules"), tmp.path().join("none").as_os_str()]);
    assert!(!o.status.success());
    assert_eq!(text(&o.stderr).trim_end().lines().count(), 1, "{}", text(&o.stderr));
}
