//! `fieldbook subnet` as a technician runs it: plain text, JSON, the table, usage errors.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("subnet")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn slash_and_separate_mask_give_the_same_answer() {
    let (code, a, _) = run(&["192.168.1.10/24"]);
    assert_eq!(code, 0);
    let (_, b, _) = run(&["192.168.1.10", "255.255.255.0"]);
    assert_eq!(a, b);
    assert!(a.contains("Network     192.168.1.0\n"), "{a}");
    assert!(a.contains("Broadcast   192.168.1.255\n"));
    assert!(a.contains("Usable      254\n"));
    assert!(a.contains("11111111.11111111.11111111|00000000"));
    assert!(
        a.lines().all(|l| l.len() <= 80 && l.is_ascii()),
        "serial-safe:\n{a}"
    );
}

#[test]
fn same_as_says_local_or_gateway() {
    let (code, out, _) = run(&[
        "192.168.0.1/24",
        "--same-as",
        "192.168.0.99",
        "--same-as",
        "10.0.0.1",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("LOCAL   192.168.0.99"), "{out}");
    assert!(out.contains("GATEWAY 10.0.0.1"), "{out}");
    assert!(out.lines().all(|l| l.len() <= 80));
}

#[test]
fn json_is_machine_readable() {
    let (code, out, _) = run(&["10.0.0.5/31", "--json", "--same-as", "10.0.0.4"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["subnet"]["network"], "10.0.0.4");
    assert_eq!(v["subnet"]["usable"], 0);
    assert!(v["subnet"]["note"].as_str().unwrap().contains("RFC 3021"));
    assert_eq!(v["same_subnet"][0]["same"], true);
}

#[test]
fn table_lists_32_to_0() {
    let (code, out, _) = run(&["--table"]);
    assert_eq!(code, 0);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with('/')).collect();
    assert_eq!(rows.len(), 33);
    assert!(rows[0].starts_with("/32 "));
    assert!(rows[32].starts_with("/0 "));
    assert!(out.lines().all(|l| l.len() <= 80));
}

#[test]
fn bad_input_is_a_usage_error() {
    for args in [
        &["192.168.1.10", "255.255.0.255"][..],
        &["192.168.1.10/33"],
        &["192.168.1.999/24"],
        &["192.168.1.10"],
        &["192.168.1.10/24", "--same-as", "nonsense"],
        &[],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(!err.is_empty());
    }
    let (_, _, err) = run(&["192.168.1.10", "255.255.0.255"]);
    assert!(err.contains("contiguous"), "{err}");
}
