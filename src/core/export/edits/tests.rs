//! Unit tests of the edit tasks, modern and old.

use super::*;
use crate::core::runbook::load_str;

fn one_edit(edit: &str) -> Edit {
    let src = format!(
        "id = \"t\"\ntitle = \"T\"\n[[variable]]\nname = \"br\"\ntype = \"text\"\ndefault = \"xenbr0\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"e\"\ntitle = \"E\"\nwhy = \"w\"\nkind = \"edit\"\n[[section.step.edit]]\n{edit}"
    );
    let rb = load_str("t.toml", &src).unwrap();
    match &rb.step("e").unwrap().action {
        crate::core::runbook::Action::Edit { edits } => edits[0].clone(),
        _ => unreachable!(),
    }
}

fn modern(edit: &str) -> String {
    let tasks = modern_edit("e: E", &one_edit(edit));
    crate::core::yaml::to_string(&Yaml::Seq(tasks.into_iter().map(Yaml::Map).collect()))
}

#[test]
fn ensure_line_is_lineinfile() {
    let out = modern(
        "path = \"/etc/inittab\"\naction = \"ensure_line\"\nline = \"x:12345:respawn:/sbin/agetty\"\n",
    );
    assert_eq!(
        out,
        "- name: !unsafe \"e: E\"\n  ansible.builtin.lineinfile:\n    path: !unsafe /etc/inittab\n    line: !unsafe \"x:12345:respawn:/sbin/agetty\"\n    create: false\n"
    );
}

#[test]
fn ensure_block_uses_fieldbook_markers() {
    let out = modern(
        "path = \"/etc/conf.d/net\"\naction = \"ensure_block\"\nmarker = \"bridges\"\nblock = \"bridge_{br}=\\\"eth1\\\"\\n\"\n",
    );
    assert!(out.contains("marker: !unsafe \"# {mark} fieldbook bridges\"\n    marker_begin: BEGIN\n    marker_end: END\n    block: \"bridge_{{ br }}=\\\"eth1\\\"\"\n"), "{out}");
}

#[test]
fn comment_out_and_symlink() {
    // Commenting runs the same sh + awk program as on old targets (see the next test).
    let out = modern(
        "path = \"/etc/xen/xend-config.sxp\"\naction = \"comment_out\"\npattern = \"(network-script network-bridge)\"\n",
    );
    assert!(out.contains("ansible.builtin.raw:"), "{out}");
    let out =
        modern("path = \"/etc/init.d/net.{br}\"\naction = \"symlink\"\ntarget = \"net.lo\"\n");
    assert!(out.contains("ansible.builtin.file:\n    path: \"/etc/init.d/net.{{ br }}\"\n    src: !unsafe net.lo\n    state: link\n"), "{out}");
}

/// A snort rule continued with trailing backslashes is commented (and uncommented) as a
/// whole on modern targets too: the task is the old targets' program, which
/// `old_edits_equal_the_engine` runs against the engine on such a rule. A line regex
/// (`replace`) commented only the `sid` line and left the rest of the rule active.
#[test]
fn modern_commenting_takes_a_continued_rule_as_a_whole() {
    for action in ["comment_out", "uncomment"] {
        let edit = format!("path = \"/r\"\naction = \"{action}\"\npattern = \"sid:1807;\"\n");
        let tasks = modern_edit("e: E", &one_edit(&edit));
        assert_eq!(
            tasks,
            vec![raw("e: E", old_edit(&one_edit(&edit)))],
            "{action}"
        );
    }
}

#[test]
fn set_var_escapes_like_the_engine() {
    let out = modern(
        "path = \"/etc/conf.d/rc\"\naction = \"set_var\"\nkey = \"RC_PLUG_SERVICES\"\nvalue = \"!net.*\"\n",
    );
    assert!(
        out.contains("line: !unsafe \"RC_PLUG_SERVICES=\\\"!net.*\\\"\"\n"),
        "{out}"
    );
}

/// Runs the old-target shell program of an edit with /bin/sh on a temp file, twice: the
/// result must be the engine's, and the second run must change nothing.
fn run_old(edit: &str, before: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, before).unwrap();
    let mut e = one_edit(edit);
    e.path = file.to_string_lossy().into_owned();
    let (Yaml::Str(script) | Yaml::Unsafe(script)) = old_edit(&e) else {
        panic!("unsafe")
    };
    // Stand in for Ansible's templating of the one variable used here.
    let script = script.replace("{{ br | quote }}", "xenbr0");
    let run = || {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run();
    let first = std::fs::read_to_string(&file).unwrap();
    let second_msg = run();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        first,
        "not idempotent"
    );
    (first, second_msg)
}

#[test]
fn old_edits_match_the_engine_and_are_idempotent() {
    let (out, msg) = run_old(
        "path = \"x\"\naction = \"ensure_line\"\nline = \"a=2\"\nreplace = \"a=\"\n",
        "#a=0\na=1\na=3\n",
    );
    assert_eq!(out, "#a=0\na=2\na=3\n");
    assert!(msg.contains("already applied"));
    let (out, _) = run_old(
        "path = \"x\"\naction = \"comment_out\"\npattern = \"network-bridge\"\n",
        "(network-script network-bridge)\n# (network-script network-bridge)\n",
    );
    assert_eq!(
        out,
        "#(network-script network-bridge)\n# (network-script network-bridge)\n"
    );
    let (out, _) = run_old(
        "path = \"x\"\naction = \"uncomment\"\npattern = \"vif-bridge\"\n",
        "  ## (vif-script vif-bridge)\n",
    );
    assert_eq!(out, "  (vif-script vif-bridge)\n");
    let (out, _) = run_old(
        "path = \"x\"\naction = \"set_var\"\nkey = \"RC_PLUG_SERVICES\"\nvalue = \"!net.*\"\n",
        "#RC_PLUG_SERVICES=\"x\"\nexport RC_PLUG_SERVICES='y'\n",
    );
    assert_eq!(
        out,
        "#RC_PLUG_SERVICES=\"x\"\nexport RC_PLUG_SERVICES=\"!net.*\"\n"
    );
    let (out, _) = run_old(
        "path = \"x\"\naction = \"add_words\"\nkey = \"USE\"\nwords = [\"pae\", \"xen\"]\n",
        "USE=\"-pae  gtk\"\n",
    );
    assert_eq!(out, "USE=\"gtk pae xen\"\n");
    let (out, _) = run_old(
        "path = \"x\"\naction = \"remove_words\"\nkey = \"USE\"\nwords = [\"gtk\"]\n",
        "USE=\"gtk pae\"\n",
    );
    assert_eq!(out, "USE=\"pae\"\n");
    let (out, _) = run_old(
        "path = \"x\"\naction = \"ensure_block\"\nmarker = \"bridges\"\nblock = \"bridge_x=\\\"eth1\\\"\\n\"\n",
        "a\n# BEGIN fieldbook bridges\nold\n# END fieldbook bridges\nz\n",
    );
    assert_eq!(
        out,
        "a\n# BEGIN fieldbook bridges\nbridge_x=\"eth1\"\n# END fieldbook bridges\nz\n"
    );
}

/// A `python_line` that is not one assignment of a literal is refused by the exported
/// program as by the engine, and the file is left alone.
#[test]
fn old_python_line_refuses_code() {
    for bad in [
        "x = __import__('os').system('reboot')",
        "x == 1",
        "x = [ 'a'",
        "x = 'a'; y = 1",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x = 1\n").unwrap();
        let mut e = one_edit(&format!(
            "path = \"x\"\naction = \"python_line\"\nline = \"{}\"\n",
            bad.replace('\\', "\\\\").replace('"', "\\\"")
        ));
        e.path = file.to_string_lossy().into_owned();
        let (Yaml::Str(script) | Yaml::Unsafe(script)) = old_edit(&e) else {
            panic!()
        };
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not one Python assignment"),
            "{bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            crate::core::edit::edit_text("x = 1\n", &e.action, "#").is_err(),
            "{bad}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x = 1\n", "{bad}");
    }
}

/// The old-target programs against fieldbook's own edit engine, case by case.
#[test]
fn old_edits_equal_the_engine() {
    let cases: &[(&str, &str)] = &[
        (
            "path = \"x\"\naction = \"ensure_line\"\nline = \"a=2\"\n",
            "a=1\n",
        ),
        (
            "path = \"x\"\naction = \"ensure_line\"\nline = \"a=2\"\nreplace = \"a=\"\n",
            "# a=0\n",
        ),
        (
            "path = \"x\"\naction = \"ensure_line\"\nline = \"a=2\"\nreplace = \"a=\"\n",
            "b\n#a=0\na=1\n",
        ),
        (
            "path = \"x\"\naction = \"ensure_line\"\nline = \"; rm -rf / $(reboot) \\\"q\\\" 'single'\"\n",
            "x\n",
        ),
        (
            "path = \"x\"\naction = \"comment_out\"\npattern = \"sshd\"\n",
            "sshd on\n  sshd indented\n#sshd off\n",
        ),
        (
            "path = \"x\"\naction = \"uncomment\"\npattern = \"vif\"\ncomment = \";\"\n",
            ";; (vif x)\n; (vif y)\n(vif z)\n",
        ),
        (
            "path = \"x\"\naction = \"set_var\"\nkey = \"USE\"\nvalue = \"a \\\"b\\\" `c` $d\"\n",
            "USE=\"x\"\n",
        ),
        (
            "path = \"x\"\naction = \"set_var\"\nkey = \"K\"\nvalue = \"v\"\n",
            "K=v\n",
        ),
        (
            "path = \"x\"\naction = \"set_var\"\nkey = \"K\"\nvalue = \"v\"\n",
            "",
        ),
        (
            "path = \"x\"\naction = \"add_words\"\nkey = \"FEATURES\"\nwords = [\"collision-protect\"]\n",
            "FEATURES=\"sandbox\"\n",
        ),
        (
            "path = \"x\"\naction = \"add_words\"\nkey = \"USE\"\nwords = [\"-gtk\"]\n",
            "USE=\"gtk x\"\n",
        ),
        (
            "path = \"x\"\naction = \"add_words\"\nkey = \"USE\"\nwords = [\"pae\"]\n",
            "# nothing yet\n",
        ),
        (
            "path = \"x\"\naction = \"remove_words\"\nkey = \"USE\"\nwords = [\"x\"]\n",
            "USE=\"x y x\"\n",
        ),
        // The collision steps of the Gentoo and Xen runbooks: both words in, both out.
        (
            "path = \"x\"\naction = \"add_words\"\nkey = \"FEATURES\"\nwords = [\"-collision-protect\", \"-protect-owned\"]\n",
            "FEATURES=\"parallel-fetch collision-protect protect-owned\"\n",
        ),
        (
            "path = \"x\"\naction = \"remove_words\"\nkey = \"FEATURES\"\nwords = [\"-collision-protect\", \"-protect-owned\"]\n",
            "FEATURES=\"parallel-fetch -protect-owned sandbox -collision-protect\"\n",
        ),
        (
            "path = \"x\"\naction = \"ensure_block\"\nmarker = \"m\"\nblock = \"one\\ntwo\\n\"\n",
            "before\n",
        ),
        (
            "path = \"x\"\naction = \"ensure_block\"\nmarker = \"m\"\nblock = \"one\\ntwo\\n\"\n",
            "# BEGIN fieldbook m\none\ntwo\n# END fieldbook m\n",
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"vif = [ 'mac=00:16:3e:00:00:01' ]
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"name='r'
vif=['mac=00:16:3e:00:00:01,bridge=eth0']
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"vif = [
    'mac=00:16:3e:00:00:02,bridge=extbr0',  # outside
    "mac=00:16:3e:00:00:01",
]
memory = 96
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"vif = [ 'mac=00:16:3e:00:00:02,bridge=extbr0' ]
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"vif = [
  'mac=00:16:3e:00:00:02,bridge=extbr0'
]
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"vif=[]
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"kernel = '/k'
"#,
        ),
        (
            r#"path = "x"
action = "python_list_item"
key = "vif"
pattern = "mac=00:16:3e:00:00:01"
value = "mac=00:16:3e:00:00:01,bridge=xenbr0"
"#,
            r#"vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]
"#,
        ),
        (
            r#"path = "x"
action = "python_add_words"
key = "extra"
words = ["xencons=tty", "console=tty1"]
"#,
            r#"extra = "3"
"#,
        ),
        (
            r#"path = "x"
action = "python_add_words"
key = "extra"
words = ["xencons=tty", "console=tty1"]
"#,
            r#"extra='xencons=tty'  # mine
memory = 96
"#,
        ),
        (
            r#"path = "x"
action = "python_add_words"
key = "extra"
words = ["xencons=tty", "console=tty1"]
"#,
            r#"kernel = '/k'
"#,
        ),
        (
            r#"path = "x"
action = "python_add_words"
key = "extra"
words = ["xencons=tty", "console=tty1"]
"#,
            r#"extra = "3 xencons=tty console=tty1"
"#,
        ),
        (
            r#"path = "x"
action = "comment_form"
key = "network-script"
"#,
            r#"(a 1)
( network-script
    'network-bridge netdev=eth1')
# (network-script x)
(network-script "y z") # c
"#,
        ),
        (
            r#"path = "x"
action = "python_line"
line = "serial = [ 'pty', 'tty0' ]"
"#,
            "a = 1\nserial = [\n    'vc',  # old\n    'null',\n]  # keep\nb = 2\n",
        ),
        (
            r#"path = "x"
action = "python_line"
line = "serial = 'pty'"
"#,
            "serial='vc'\nserial = \"x\"\n",
        ),
        (
            r#"path = "x"
action = "python_line"
line = "memory = 256"
"#,
            "name = 'r'\n",
        ),
        (
            r#"path = "x"
action = "comment_out"
pattern = "sid:1807;"
"#,
            r#"alert tcp any any -> any 80 \
    (msg:"chunked"; \
    sid:1807; rev:10;)
alert tcp any any -> any 80 (sid:1091;)
"#,
        ),
        (
            r#"path = "x"
action = "uncomment"
pattern = "sid:1807;"
"#,
            r#"#alert tcp any any -> any 80 \
#    (msg:"chunked"; \
#    sid:1807; rev:10;)
alert tcp any any -> any 80 (sid:1091;)
"#,
        ),
    ];
    for (edit, before) in cases {
        let e = one_edit(edit);
        let want = crate::core::edit::edit_text(before, &e.action, &e.comment).unwrap();
        let (got, _) = run_old(edit, before);
        assert_eq!(got, want, "{edit} on {before:?}");
    }
}
