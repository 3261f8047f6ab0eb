//! The format-aware edits of the built-in runbooks on fixture roots built from real file
//! contents: every `network-script` spelling of a stock Xen 4.0 `xend-config.sxp`, Xen guest
//! configs read as Python (checked by Python itself), OpenRC's `/etc/rc.conf` against
//! baselayout-1's `/etc/conf.d/rc`, and a snort rule continued with backslashes. Each edit is
//! applied, applied again (nothing changes) and undone (the file is as before).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fieldbook::core::apply::{self, EditContext};
use fieldbook::core::catalog::Catalog;
use fieldbook::core::conditions::{Applicability, decide};
use fieldbook::core::runbook::{Action, Edit, Runbook, Step};
use fieldbook::core::runner::CheckResult;

const STOCK_SXP: &str = include_str!("fixtures/edits/root/etc/xen/xend-config.sxp");
const CONF_D_RC: &str = include_str!("fixtures/edits/root/etc/conf.d/rc");
const RC_CONF: &str = include_str!("fixtures/format-edits/rc.conf");
const RULES: &str = include_str!("fixtures/format-edits/web-misc.rules");

fn xen() -> Runbook {
    Catalog::load(None)
        .get("xen4-migration")
        .unwrap()
        .runbook
        .clone()
}

fn edits<'a>(rb: &'a Runbook, step: &str) -> &'a [Edit] {
    match &rb.step(step).unwrap().action {
        Action::Edit { edits } => edits,
        other => panic!("{step}: {other:?}"),
    }
}

fn values() -> BTreeMap<String, String> {
    let mut v = xen().default_values();
    v.insert("vm_config".into(), "/etc/xen/router.cfg".into());
    v.insert("vm_mac".into(), "00:16:3e:12:34:56".into());
    v.insert("vm_bridge".into(), "xenbr0".into());
    v
}

/// A root holding `files` (target path, content) and a state directory beside it.
struct Root {
    _dir: tempfile::TempDir,
    root: PathBuf,
    state: PathBuf,
}

fn root_with(files: &[(&str, &str)]) -> Root {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let state = dir.path().join("state");
    fs::create_dir_all(&state).unwrap();
    for (path, text) in files {
        let p = root.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    Root {
        _dir: dir,
        root,
        state,
    }
}

fn ctx<'a>(
    r: &'a Root,
    values: &'a BTreeMap<String, String>,
    archive: &'a Path,
) -> EditContext<'a> {
    EditContext {
        root: Some(&r.root),
        state_dir: &r.state,
        archive,
        values,
        follow_symlinks: false,
    }
}

fn read(r: &Root, path: &str) -> String {
    fs::read_to_string(r.root.join(path.trim_start_matches('/'))).unwrap()
}

/// Applies `edits`, checks a second apply changes nothing, returns the file's text after the
/// edit, then undoes and checks the file is back as it was.
fn apply_again_undo(r: &Root, edits: &[Edit], path: &str) -> String {
    let values = values();
    let archive = PathBuf::from("archive/t/h/run");
    let c = ctx(r, &values, &archive);
    let before = read(r, path);
    let preview = apply::preview(edits, &c).unwrap_or_else(|e| panic!("{e}"));
    assert!(!preview.already_applied(), "nothing to do in:\n{before}");
    let applied = apply::apply("step", &preview, &c, "2026-12-02T15:00:00Z").unwrap();
    let after = read(r, path);
    let again = apply::preview(edits, &c).unwrap();
    assert!(
        again.already_applied(),
        "second apply changes:\n{}",
        again.diff()
    );
    for a in applied.iter().rev() {
        apply::undo(a, &r.state, false).unwrap();
    }
    assert_eq!(read(r, path), before, "undo restores the file");
    // Leave the edited version in place for checks that need the file.
    apply::apply_step("step", edits, &c, "t").unwrap();
    after
}

/// Active (not commented) lines that mention network-script.
fn active_network_script(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains("network-script"))
        .collect()
}

#[test]
fn every_network_script_spelling_is_commented_out() {
    let stock_line = "\n(network-script network-bridge)\n";
    assert_eq!(STOCK_SXP.matches(stock_line).count(), 1);
    let rb = xen();
    for variant in [
        "(network-script network-bridge)",
        "(network-script 'network-bridge netdev=eth1')",
        "(network-script \"network-bridge bridge=xenbr0\")",
        "( network-script   network-bridge )",
        "\t(network-script network-bridge) # the default",
        "(network-script\n    'network-bridge netdev=eth1')",
        "(network-script my-two-bridges)",
    ] {
        let sxp = STOCK_SXP.replace(stock_line, &format!("\n{variant}\n"));
        let r = root_with(&[("/etc/xen/xend-config.sxp", &sxp)]);
        let after = apply_again_undo(&r, edits(&rb, "xend-config"), "/etc/xen/xend-config.sxp");
        assert_eq!(
            active_network_script(&after),
            Vec::<&str>::new(),
            "{variant}"
        );
        for line in variant.lines() {
            assert!(after.contains(&format!("#{line}\n")), "{variant}:\n{after}");
        }
        assert!(after.contains("\n(vif-script vif-bridge bridge=xenbr0)\n"));
        assert!(after.contains("\n#(vif-script vif-bridge)\n"));
        // The comments that merely mention the forms are left as they were.
        assert!(after.contains("\n# (network-script 'network-bridge netdev=eth1')\n"));
    }
}

/// Runs step `verify-no-network-script`'s own program on the root's xend-config.sxp (its
/// path argument pointed into the root) and judges it by the step's `expect`. Returns whether
/// the step passes and what it printed.
fn verify_no_network_script(rb: &Runbook, r: &Root) -> (bool, String) {
    use fieldbook::core::runbook::{Program, resolve_argv};
    let Action::Run(spec) = &rb.step("verify-no-network-script").unwrap().action else {
        panic!("verify-no-network-script is a command step");
    };
    assert_eq!(spec.programs.len(), 1);
    let Program::Argv(argv) = &spec.programs[0] else {
        panic!("an argv, not a script");
    };
    let target = "/etc/xen/xend-config.sxp";
    let argv: Vec<String> = resolve_argv(argv, &values())
        .into_iter()
        .map(|a| {
            if a == target {
                r.root
                    .join(target.trim_start_matches('/'))
                    .display()
                    .to_string()
            } else {
                a
            }
        })
        .collect();
    assert!(argv.iter().any(|a| a.ends_with(target)), "{argv:?}");
    let out = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{argv:?}: {out:?}");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (spec.expect.contains(&code), text)
}

/// The verify step fails on every active form the xend-config edit would comment out (a tab
/// before it, spaces or a line break between "(" and the name, the name quoted) and names its
/// line, and passes once the edit has commented them out. Comments and quoted text that only
/// mention network-script never make it fail.
#[test]
fn verify_no_network_script_finds_every_form_the_edit_comments() {
    let stock_line = "\n(network-script network-bridge)\n";
    let rb = xen();
    for (variant, shown) in [
        (
            "(network-script network-bridge)",
            "(network-script network-bridge)",
        ),
        (
            "\t(network-script network-bridge) # the default",
            "\t(network-script",
        ),
        (
            "\t \t(network-script 'network-bridge netdev=eth1')",
            "netdev=eth1",
        ),
        ("( network-script   network-bridge )", "( network-script"),
        ("(\tnetwork-script network-bridge)", "(\tnetwork-script"),
        (
            "(\n    network-script network-bridge)",
            "    network-script network-bridge)",
        ),
        (
            "(network-script\n    'network-bridge netdev=eth1')",
            "(network-script",
        ),
        ("(\"network-script\" network-bridge)", "(\"network-script\""),
        ("('network-script' my-two-bridges)", "('network-script'"),
    ] {
        let sxp = STOCK_SXP.replace(stock_line, &format!("\n{variant}\n"));
        let r = root_with(&[("/etc/xen/xend-config.sxp", &sxp)]);
        let (passes, out) = verify_no_network_script(&rb, &r);
        assert!(
            !passes,
            "an active form passed the check: {variant:?}\n{out}"
        );
        assert!(out.contains("line 46: "), "{variant:?}: {out}");
        assert!(out.contains(shown), "{variant:?}: {out}");
        assert_eq!(
            out.lines().count(),
            variant
                .split("network-script")
                .next()
                .unwrap()
                .lines()
                .count(),
            "the lines from \"(\" to the name and nothing else: {variant:?}: {out}"
        );
        apply_again_undo(&r, edits(&rb, "xend-config"), "/etc/xen/xend-config.sxp");
        let (passes, out) = verify_no_network_script(&rb, &r);
        assert!(
            passes,
            "after the edit: {variant:?}\n{out}\n{}",
            read(&r, "/etc/xen/xend-config.sxp")
        );
        assert_eq!(out, "", "{variant:?}");
    }
    // Mentions that are not active forms: in comments, in a string, a longer name.
    let quiet = STOCK_SXP.replace(
        stock_line,
        "\n#(network-script network-bridge)\n(xend-address '(network-script x')\n\
         (network-scripts y) # (network-script z)\n",
    );
    let r = root_with(&[("/etc/xen/xend-config.sxp", &quiet)]);
    let (passes, out) = verify_no_network_script(&rb, &r);
    assert!(passes, "{out}");
}

#[test]
fn an_unsure_xend_config_is_refused_with_its_line_and_left_alone() {
    let rb = xen();
    for (bad, line) in [
        (
            "(network-script network-bridge) (vif-script vif-bridge)",
            46,
        ),
        ("(network-script 'network-bridge netdev=eth1)", 46),
    ] {
        let sxp = STOCK_SXP.replace("\n(network-script network-bridge)\n", &format!("\n{bad}\n"));
        let r = root_with(&[("/etc/xen/xend-config.sxp", &sxp)]);
        let values = values();
        let archive = PathBuf::from("a");
        let err = apply::preview(edits(&rb, "xend-config"), &ctx(&r, &values, &archive))
            .expect_err(bad)
            .to_string();
        assert!(err.contains(&format!("line {line}:")), "{err}");
        assert!(err.contains("fix it by hand first"), "{err}");
        assert_eq!(read(&r, "/etc/xen/xend-config.sxp"), sxp);
    }
}

/// What Python makes of a guest config: `[vif, extra]` as JSON, or the error.
fn python_reads(path: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys\ng = {}\nexec(open(sys.argv[1]).read(), g)\n\
             print(json.dumps([g.get('vif'), g.get('extra')]))",
        )
        .arg(path)
        .output()
        .expect("python3 is needed to check guest configs the way xm reads them");
    assert!(
        out.status.success(),
        "python cannot read {}:\n{}\n{}",
        path.display(),
        fs::read_to_string(path).unwrap(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const GUEST_HEAD: &str =
    "kernel = \"/boot/vmlinuz-2.6.18-xen-domU\"\nmemory = 96\nname = \"router\"\n";
const GUEST_TAIL: &str =
    "disk = [ 'file:/var/xen/router.img,xvda1,w' ]\nroot = \"/dev/xvda1 ro\"\n";

#[test]
fn guest_configs_are_edited_as_python() {
    let rb = xen();
    let me = "mac=00:16:3e:12:34:56,bridge=xenbr0";
    let other = "mac=00:16:3e:65:43:21,bridge=extbr0";
    let cases: &[(&str, &str, &[&str], Option<&str>)] = &[
        (
            "one-line",
            "vif = [ 'mac=00:16:3e:12:34:56' ]\n",
            &[me],
            None,
        ),
        (
            "multi-line",
            "vif = [\n    'mac=00:16:3e:12:34:56,bridge=eth0',\n    'mac=00:16:3e:65:43:21,bridge=extbr0',\n]\n",
            &[me, other],
            None,
        ),
        ("no spaces", "vif=['mac=00:16:3e:12:34:56']\n", &[me], None),
        (
            "two vifs",
            "vif = [ 'mac=00:16:3e:65:43:21,bridge=extbr0', 'mac=00:16:3e:12:34:56,bridge=eth1' ]\n",
            &[other, me],
            None,
        ),
        (
            "extra with spaces",
            "vif = [ 'mac=00:16:3e:12:34:56,bridge=xenbr0' ]\nextra = \"3\"\n",
            &[me],
            Some("3 xencons=tty console=tty1"),
        ),
    ];
    for (name, vif, want_vif, want_extra) in cases {
        let text = format!("{GUEST_HEAD}{vif}{GUEST_TAIL}");
        let r = root_with(&[("/etc/xen/router.cfg", &text)]);
        let mut steps: Vec<Edit> = Vec::new();
        for step in ["vm-vif", "gentoo-guest-console"] {
            steps.extend(edits(&rb, step).iter().cloned());
        }
        let after = apply_again_undo(&r, &steps, "/etc/xen/router.cfg");
        assert_eq!(
            after.matches("vif").count(),
            1,
            "{name}: one vif assignment\n{after}"
        );
        assert_eq!(
            after.matches("extra").count(),
            1,
            "{name}: one extra\n{after}"
        );
        let got = python_reads(&r.root.join("etc/xen/router.cfg"));
        assert_eq!(got[0], serde_json::json!(want_vif), "{name}:\n{after}");
        assert_eq!(
            got[1],
            serde_json::json!(want_extra.unwrap_or("xencons=tty console=tty1")),
            "{name}:\n{after}"
        );
        assert!(
            after.starts_with(GUEST_HEAD) && after.contains(GUEST_TAIL),
            "{name}"
        );
    }
}

/// The ClearOS console line the technician types is set as a Python assignment: one already
/// there (no spaces, over several lines) is replaced whole, never followed by a second one; a
/// line that is not one assignment of a literal is refused and the file left alone.
#[test]
fn the_clearos_console_line_is_set_as_one_python_assignment() {
    let rb = xen();
    let step = edits(&rb, "clearos-guest-config");
    let line = "serial = [ 'pty', 'tty0' ]";
    for (name, existing) in [
        ("absent", ""),
        ("no spaces", "serial='vc'\n"),
        (
            "multi-line",
            "serial = [\n    'vc',  # the old console\n    'null',\n]\n",
        ),
        ("twice", "serial = 'a'\nserial=\"b\"  # wins\n"),
    ] {
        let text = format!("{GUEST_HEAD}{existing}{GUEST_TAIL}");
        let r = root_with(&[("/etc/xen/router.cfg", &text)]);
        let mut values = values();
        values.insert("clearos_vm_line".into(), line.into());
        let archive = PathBuf::from("archive/t/h/run");
        let c = ctx(&r, &values, &archive);
        let preview = apply::preview(step, &c).unwrap_or_else(|e| panic!("{name}: {e}"));
        let applied = apply::apply("step", &preview, &c, "2026-12-02T15:00:00Z").unwrap();
        let after = read(&r, "/etc/xen/router.cfg");
        assert!(
            apply::preview(step, &c).unwrap().already_applied(),
            "{name}"
        );
        let path = r.root.join("etc/xen/router.cfg");
        let out = Command::new("python3")
            .arg("-c")
            .arg("import json, sys\ng = {}\nexec(open(sys.argv[1]).read(), g)\nprint(json.dumps(g.get('serial')))")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: python cannot read\n{after}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "[\"pty\", \"tty0\"]",
            "{name}:\n{after}"
        );
        let last = after.rfind("serial").unwrap();
        assert_eq!(
            after[..last].matches("serial").count(),
            usize::from(name == "twice"),
            "{name}: the effective assignment is the one set\n{after}"
        );
        assert!(
            after.starts_with(GUEST_HEAD) && after.contains(GUEST_TAIL),
            "{name}"
        );
        for a in applied.iter().rev() {
            apply::undo(a, &r.state, false).unwrap();
        }
        assert_eq!(read(&r, "/etc/xen/router.cfg"), text, "{name}: undo");
    }
    for bad in [
        "serial = __import__('os').system('reboot')",
        "serial = 'pty'; extra = '1'",
        "serial == 'pty'",
        "just text",
        "serial = [ 'pty'",
    ] {
        let text = format!("{GUEST_HEAD}{GUEST_TAIL}");
        let r = root_with(&[("/etc/xen/router.cfg", &text)]);
        let mut values = values();
        values.insert("clearos_vm_line".into(), bad.into());
        let archive = PathBuf::from("a");
        let err = apply::preview(step, &ctx(&r, &values, &archive))
            .expect_err(bad)
            .to_string();
        assert!(
            err.contains("is not one Python assignment of a literal"),
            "{bad}: {err}"
        );
        assert_eq!(read(&r, "/etc/xen/router.cfg"), text);
    }
}

#[test]
fn an_unreadable_guest_config_is_refused_never_half_edited() {
    let rb = xen();
    let text = format!("{GUEST_HEAD}vif = [ 'mac=00:16:3e:12:34:56',\n{GUEST_TAIL}");
    let r = root_with(&[("/etc/xen/router.cfg", &text)]);
    let values = values();
    let archive = PathBuf::from("a");
    let err = apply::preview(edits(&rb, "vm-vif"), &ctx(&r, &values, &archive))
        .expect_err("an open bracket")
        .to_string();
    assert!(err.contains("line 4:"), "{err}");
    assert!(err.contains("vif = [ 'mac=00:16:3e:12:34:56',"), "{err}");
    assert_eq!(read(&r, "/etc/xen/router.cfg"), text);
}

/// `test [!] -f PATH` probes answered from the root, as on the box it stands for.
fn applies(step: &Step, r: &Root) -> bool {
    let answer = decide(step, &values(), |cmd| {
        let a: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
        let (negate, path) = match a.as_slice() {
            ["test", "!", "-f", p] => (true, *p),
            ["test", "-f", p] => (false, *p),
            other => panic!("unexpected probe {other:?}"),
        };
        if r.root.join(path.trim_start_matches('/')).is_file() != negate {
            CheckResult::AlreadyDone
        } else {
            CheckResult::NotDone
        }
    });
    match answer {
        Applicability::Applies => true,
        Applicability::NotNeeded(why) => {
            assert!(!why.is_empty());
            false
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_hotplug_setting_goes_where_the_init_system_reads_it() {
    let rb = xen();
    let plug = rb.step("rc-plug").unwrap();
    let hotplug = rb.step("rc-hotplug").unwrap();

    // baselayout-1: /etc/conf.d/rc only.
    let r = root_with(&[("/etc/conf.d/rc", CONF_D_RC)]);
    assert!(applies(plug, &r) && !applies(hotplug, &r));
    let after = apply_again_undo(&r, edits(&rb, "rc-plug"), "/etc/conf.d/rc");
    assert!(after.contains("\nRC_PLUG_SERVICES=\"!net.*\"\n"), "{after}");

    // OpenRC: /etc/rc.conf (a leftover /etc/conf.d/rc is not read any more).
    let r = root_with(&[("/etc/rc.conf", RC_CONF), ("/etc/conf.d/rc", CONF_D_RC)]);
    assert!(!applies(plug, &r) && applies(hotplug, &r));
    let after = apply_again_undo(&r, edits(&rb, "rc-hotplug"), "/etc/rc.conf");
    assert!(
        after.ends_with("#rc_logger=\"NO\"\nrc_hotplug=\"!net.*\"\n"),
        "{after}"
    );
    assert!(
        after.contains("\n#rc_hotplug=\"*\"\n"),
        "the example stays commented"
    );

    // Neither: the baselayout-1 step applies and says which file it expected.
    let r = root_with(&[("/etc/hostname", "dom0\n")]);
    assert!(applies(plug, &r));
    let values = values();
    let archive = PathBuf::from("a");
    let err = apply::preview(edits(&rb, "rc-plug"), &ctx(&r, &values, &archive))
        .expect_err("missing file")
        .to_string();
    assert!(
        err.contains("/etc/conf.d/rc does not exist: baselayout-1 was expected"),
        "{err}"
    );
    assert!(plug.title.contains("baselayout-1") && hotplug.title.contains("OpenRC"));
}

#[test]
fn a_continued_snort_rule_is_disabled_as_a_whole() {
    use fieldbook::core::snort;
    let dir = snort::RULE_DIRS[0];
    let path = format!("{dir}/web-misc.rules");
    let r = root_with(&[(&path, RULES)]);
    let list = snort::article_sids().unwrap();
    let report = snort::scan(Some(&r.root), &[dir], &list);
    let s1807 = report.sids.iter().find(|s| s.entry.sid == 1807).unwrap();
    assert_eq!(s1807.state, snort::RuleState::Enabled);
    assert_eq!(s1807.hits[0].line, 9, "the rule starts on its first line");
    let after = apply_again_undo(&r, &snort::disable_edits(s1807), &path);
    let lines: Vec<&str> = after.lines().collect();
    for l in &lines[8..12] {
        assert!(l.starts_with("#alert") || l.starts_with("#    "), "{after}");
    }
    assert!(lines[7].starts_with("alert") && lines[12].starts_with("alert"));
    let again = snort::scan(Some(&r.root), &[dir], &list);
    let s1807 = again.sids.iter().find(|s| s.entry.sid == 1807).unwrap();
    assert_eq!(s1807.state, snort::RuleState::Disabled);
}

/// The worked example of docs/runbook-format.md loads, and its edits turn the guest file it
/// shows into the result it shows (and change nothing the second time).
#[test]
fn the_documented_worked_example_does_what_the_page_says() {
    let doc = include_str!("../docs/runbook-format.md");
    let part = doc
        .split("## A worked example of conditions, order and format-aware edits")
        .nth(1)
        .unwrap();
    let blocks: Vec<&str> = part
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| b.split_once('\n').unwrap().1)
        .collect();
    let rb = fieldbook::core::runbook::load_str("example.toml", blocks[0])
        .unwrap_or_else(|p| panic!("{p:?}"));
    let mut values = BTreeMap::new();
    values.insert("cfg".to_string(), "/etc/xen/guest.cfg".to_string());
    values.insert("mac".to_string(), "00:16:3e:00:00:01".to_string());
    let mut text = blocks[1].to_string();
    for step in ["vif", "console"] {
        for e in edits(&rb, step) {
            let e = fieldbook::core::edit::substituted(e, &values);
            text = fieldbook::core::edit::edit_text(&text, &e.action, &e.comment).unwrap();
            let again = fieldbook::core::edit::edit_text(&text, &e.action, &e.comment).unwrap();
            assert_eq!(again, text);
        }
    }
    assert_eq!(text, blocks[2]);
    assert!(rb.step("vif").unwrap().after == ["ask"]);
    assert!(rb.step("console").unwrap().when.is_some());
}
