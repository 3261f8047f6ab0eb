//! Every input a fuzzer found a problem with (and a few seeds) replayed through the same
//! property the fuzz target checks (`fuzz/checks.rs`), so a fixed finding stays fixed without
//! cargo-fuzz. Inputs live in `tests/fixtures/fuzz/<target>/`, one file each.

#[path = "../fuzz/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::PathBuf;

fn replay(target: &str) -> usize {
    let (_, check) = checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a known target");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails again", path.display());
        n += 1;
    }
    n
}

#[test]
fn every_target_has_inputs_here() {
    for (name, _) in checks::TARGETS {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz")
            .join(name);
        assert!(dir.is_dir(), "tests/fixtures/fuzz/{name}/ is missing");
    }
}

#[test]
fn runbook_loader_survives_every_fuzz_input() {
    assert!(replay("runbook_load") > 0);
}

#[test]
fn tool_parsers_survive_every_fuzz_input() {
    for t in [
        "parse_chkconfig",
        "parse_rc_update",
        "parse_gcc_config",
        "parse_profile_env",
        "parse_emerge",
        "snort_scan",
    ] {
        assert!(replay(t) > 0, "{t}");
    }
}

#[test]
fn edit_engine_survives_every_fuzz_input() {
    assert!(replay("edit_text") > 0);
}

#[test]
fn terminal_filter_survives_every_fuzz_input() {
    assert!(replay("terminal_text") > 0);
}

#[test]
fn form_values_survive_every_fuzz_input() {
    assert!(replay("form_value") > 0);
}

#[test]
fn ansible_export_keeps_every_fuzz_input_data() {
    assert!(replay("export_ansible") > 0);
}
