//! The commit step against files on disk: targets replaced only at commit, parts
//! published, devices written directly, uncommitted outputs removed.

use super::*;
use std::io::Write;

#[test]
fn a_target_is_replaced_only_at_commit_and_kept_on_discard() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    std::fs::write(&target, "old\n").unwrap();
    let t = target.to_str().unwrap();

    let pending = PendingOutputs::default();
    pending.create(t).unwrap().write_all(b"half").unwrap();
    pending.discard();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp left"
    );

    let pending = PendingOutputs::default();
    pending.create(t).unwrap().write_all(b"new\n").unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    pending.commit().unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode & 0o644,
        0o644,
        "readable as a file weir made always was: {mode:o}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn publishing_makes_the_target_what_the_part_holds() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    std::fs::write(&target, "an earlier run's longer output\n").unwrap();
    let t = target.to_str().unwrap();
    let mut pending = PendingOutputs::default();
    pending.durable(false);
    let mut part = pending.create(t).unwrap();
    part.write_all(b"a\n").unwrap();
    pending.publish().unwrap();
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "a\n",
        "replaced, not patched"
    );
    part.write_all(b"b\n").unwrap();
    pending.publish().unwrap();
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "a\nb\n",
        "appended"
    );
    // Resumed from an older checkpoint: the part is shorter than what was shown.
    part.set_len(2).unwrap();
    pending.publish().unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "a\n");
    drop(pending);
    assert!(
        dir.path().join(".out.csv.weir-part").exists(),
        "a part outlives its run"
    );
}

#[test]
fn a_device_is_written_directly_never_replaced() {
    let pending = PendingOutputs::default();
    pending
        .create("/dev/null")
        .unwrap()
        .write_all(b"gone")
        .unwrap();
    pending.commit().unwrap();
    let m = std::fs::metadata("/dev/null").unwrap();
    assert!(!m.is_file(), "/dev/null is still a device");
}

#[test]
fn dropping_uncommitted_outputs_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nested/out.csv");
    {
        let pending = PendingOutputs::default();
        pending.create(target.to_str().unwrap()).unwrap();
    }
    assert!(!target.exists());
    let left = std::fs::read_dir(dir.path().join("nested"))
        .unwrap()
        .count();
    assert_eq!(left, 0);
}
