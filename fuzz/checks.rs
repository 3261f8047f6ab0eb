//! The properties every fuzz target checks, shared with the regression test that replays the
//! crash inputs in `tests/fixtures/fuzz/<target>/` (`tests/fuzz_regressions.rs`), so a finding
//! is checked the same way in `cargo test` as it was found.

use fieldbook::core::edit::{edit_text as apply_text, is_present, unified_diff};
use fieldbook::core::runbook::EditAction;
use fieldbook::core::terminal_text::{MAX_LINE_CHARS, StyledLine, TerminalText};

/// A property checked on one input; it panics when the input breaks it.
pub type Check = fn(&[u8]);

/// Every target by name, for the regression test.
pub const TARGETS: &[(&str, Check)] = &[
    ("runbook_load", runbook_load),
    ("parse_chkconfig", parse_chkconfig),
    ("parse_rc_update", parse_rc_update),
    ("parse_gcc_config", parse_gcc_config),
    ("parse_profile_env", parse_profile_env),
    ("edit_text", edit_text),
    ("terminal_text", terminal_text),
    ("parse_emerge", parse_emerge),
    ("snort_scan", snort_scan),
    ("form_value", form_value),
    ("export_ansible", export_ansible),
];

/// The runbook loader returns a runbook or located problems, never panics, and every
/// problem's line lies inside the file.
pub fn runbook_load(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(problems) = fieldbook::core::runbook::load_str("fuzz.toml", source) {
        let lines = source.split('\n').count();
        for p in problems {
            assert!(p.at.line >= 1 && p.at.line <= lines.max(1), "{p:?}");
            assert!(!p.message.is_empty());
        }
    }
}

/// Tool output is decoded lossily, as the runner does, and parsed; nothing may panic.
pub fn parse_chkconfig(data: &[u8]) {
    let parsed = fieldbook::core::parse::chkconfig::parse(&String::from_utf8_lossy(data));
    let _ = format!("{parsed:?}");
}

/// See [`parse_chkconfig`].
pub fn parse_rc_update(data: &[u8]) {
    let parsed = fieldbook::core::parse::rc_update::parse(&String::from_utf8_lossy(data));
    let _ = format!("{parsed:?}");
}

/// See [`parse_chkconfig`].
pub fn parse_gcc_config(data: &[u8]) {
    let parsed = fieldbook::core::parse::gcc_config::parse(&String::from_utf8_lossy(data));
    let _ = format!("{parsed:?}");
}

/// See [`parse_chkconfig`].
pub fn parse_profile_env(data: &[u8]) {
    let parsed = fieldbook::core::parse::profile_env::parse(&String::from_utf8_lossy(data));
    let _ = format!("{parsed:?}");
}

/// `emerge --pretend` output (plain or coloured): parsed without a panic, and every planned
/// merge prints as an atom.
pub fn parse_emerge(data: &[u8]) {
    let parsed = fieldbook::core::parse::emerge::parse_pretend(&String::from_utf8_lossy(data));
    for merge in &parsed.merges {
        assert!(!merge.atom().is_empty());
    }
    let _ = format!("{parsed:?}");
}

/// The snort rule scanner on arbitrary rule-file text: every SID it reports was asked for and
/// its `sid:N;` text is really in the line it names.
pub fn snort_scan(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut wanted: Vec<u64> = fieldbook::core::snort::sids_in_line(&text)
        .into_iter()
        .map(|(sid, _)| sid)
        .collect();
    wanted.push(2_000_000);
    for (sid, hit) in fieldbook::core::snort::scan_text("fuzz.rules", &text, &wanted) {
        assert!(wanted.contains(&sid));
        assert!(hit.line >= 1);
        assert!(hit.text.contains(&hit.sid_text), "{hit:?}");
    }
}

/// What a technician types into a form or `fieldbook subnet`: every variable type validates
/// it (an error is a sentence, never a panic), and the subnet calculator either explains it or
/// says why not. The first byte picks how the rest is split into address and mask.
pub fn form_value(data: &[u8]) {
    use fieldbook::core::vars::VarType;
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let choices = vec!["openrc".to_string(), text.to_string()];
    for ty in [
        VarType::Text,
        VarType::Ip,
        VarType::Cidr,
        VarType::Netmask,
        VarType::Mac,
        VarType::Hostname,
        VarType::Port,
        VarType::Path,
        VarType::Choice,
        VarType::Secret,
    ] {
        if let Err(message) = ty.validate(&text, &choices) {
            assert!(!message.is_empty(), "{ty:?}");
        }
    }
    let (address, mask) = match text.split_once(' ') {
        Some((a, m)) if how % 2 == 1 => (a.to_string(), Some(m.to_string())),
        _ => (text.to_string(), None),
    };
    match fieldbook::core::net::calculate(&address, mask.as_deref()) {
        Ok(fieldbook::core::net::Calculation::V4(s)) => {
            let _ = fieldbook::core::net::report_lines(&s);
        }
        Ok(fieldbook::core::net::Calculation::V6(s)) => {
            let _ = format!("{s:?}");
        }
        Err(message) => assert!(!message.is_empty()),
    }
}

/// Splits the input into the file content and up to three parameters, separated by NUL bytes
/// (which the engine refuses in files anyway, so the split costs no coverage).
fn parts(data: &[u8]) -> (String, String, String, String) {
    let mut it = data.splitn(4, |&b| b == 0);
    let mut next = || String::from_utf8_lossy(it.next().unwrap_or_default()).into_owned();
    let (a, b, c, d) = (next(), next(), next(), next());
    (d, a, b, c)
}

/// The edit engine on arbitrary file contents and parameters: an error or a result, never a
/// panic; a successful edit is idempotent and its diff computable.
pub fn edit_text(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (content, p1, p2, p3) = parts(rest);
    let comment = if p3.is_empty() { "#".to_string() } else { p3 };
    let words: Vec<String> = p2.split(' ').map(str::to_string).collect();
    let action = match which % 8 {
        0 => EditAction::EnsureLine {
            line: p1,
            replace: None,
        },
        1 => EditAction::EnsureLine {
            line: p1,
            replace: Some(p2),
        },
        2 => EditAction::CommentOut { pattern: p1 },
        3 => EditAction::Uncomment { pattern: p1 },
        4 => EditAction::SetVar { key: p1, value: p2 },
        5 => EditAction::AddWords { key: p1, words },
        6 => EditAction::RemoveWords { key: p1, words },
        _ => EditAction::EnsureBlock {
            marker: p1,
            block: p2,
        },
    };
    let Ok(new) = apply_text(&content, &action, &comment) else {
        return;
    };
    let again =
        apply_text(&new, &action, &comment).expect("an edit that applied once applies again");
    assert_eq!(again, new, "not idempotent: {action:?} comment {comment:?}");
    assert_eq!(is_present(&new, &action, &comment).ok(), Some(true));
    let _ = unified_diff("/etc/fuzz", &content, &new);
}

fn filtered(pieces: &[&[u8]]) -> Vec<StyledLine> {
    let mut filter = TerminalText::new();
    let mut lines = Vec::new();
    for piece in pieces {
        filter.feed(piece, &mut lines);
        if let Some(partial) = filter.partial() {
            check(partial);
        }
    }
    filter.finish(&mut lines);
    lines
}

fn check(line: &StyledLine) {
    assert!(line.char_count() <= MAX_LINE_CHARS);
    for span in line.spans() {
        assert!(!span.text.is_empty(), "an empty span");
        assert!(
            !span.text.chars().any(char::is_control),
            "control character let through: {:?}",
            span.text
        );
    }
}

/// The escape-sequence filter: nothing it lets through is a control character, lines stay
/// within the display limit, and the result does not depend on how the pipe split the bytes.
pub fn terminal_text(data: &[u8]) {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let whole = filtered(&[bytes]);
    for line in &whole {
        check(line);
    }
    // The same bytes cut into pieces of `split` bytes (1..=256).
    let size = usize::from(split) + 1;
    let pieces: Vec<&[u8]> = bytes.chunks(size).collect();
    let chunked = filtered(&pieces);
    assert_eq!(whole, chunked, "the result depends on the pipe's chunking");

    let text = String::from_utf8_lossy(bytes);
    let stripped = fieldbook::core::parse::strip_ansi(&text);
    assert!(!stripped.contains('\u{1b}'));
    let shown = fieldbook::core::terminal_text::terminal_safe_line(&stripped);
    assert!(!shown.chars().any(|c| c.is_control() && c != '\t'));
}

/// A node of a parsed playbook; a scalar remembers whether it was tagged `!unsafe`.
#[derive(Debug)]
enum Node {
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Builds [`Node`]s from the events of a real YAML parser; a mapping collects its keys and
/// values in one list until it ends.
#[derive(Default)]
struct Tree {
    stack: Vec<(bool, Vec<Node>)>,
    docs: Vec<Node>,
}

impl Tree {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some((_, items)) => items.push(node),
            None => self.docs.push(node),
        }
    }
}

impl yaml_rust2::parser::MarkedEventReceiver for Tree {
    fn on_event(&mut self, ev: yaml_rust2::Event, _: yaml_rust2::scanner::Marker) {
        use yaml_rust2::Event;
        match ev {
            Event::Scalar(value, _, _, tag) => {
                let unsafe_tag = tag.is_some_and(|t| t.handle == "!" && t.suffix == "unsafe");
                self.push(Node::Scalar(value, unsafe_tag));
            }
            Event::SequenceStart(_, tag) | Event::MappingStart(_, tag) if tag.is_some() => {
                panic!("a tagged collection")
            }
            Event::SequenceStart(..) => self.stack.push((false, Vec::new())),
            Event::MappingStart(..) => self.stack.push((true, Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                let (is_map, items) = self.stack.pop().expect("balanced events");
                let node = if is_map {
                    let mut pairs = Vec::new();
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Node::Map(pairs)
                } else {
                    Node::Seq(items)
                };
                self.push(node);
            }
            Event::Alias(_) => panic!("an alias in an exported playbook"),
            _ => {}
        }
    }
}

fn parse_playbook(text: &str) -> Node {
    let mut tree = Tree::default();
    yaml_rust2::parser::Parser::new_from_str(text)
        .load(&mut tree, true)
        .unwrap_or_else(|e| panic!("the playbook is not YAML: {e}\n{text}"));
    assert_eq!(tree.docs.len(), 1, "one document:\n{text}");
    tree.docs.remove(0)
}

fn get<'a>(map: &'a Node, key: &str) -> &'a Node {
    let Node::Map(pairs) = map else {
        panic!("not a mapping: {map:?}")
    };
    pairs
        .iter()
        .find(|(k, _)| matches!(k, Node::Scalar(s, false) if s == key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {map:?}"))
}

/// Every scalar Ansible would template (not tagged `!unsafe`) that holds template syntax.
fn templates(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::Scalar(s, false) if s.contains("{{") || s.contains("{%") || s.contains("{#") => {
            out.push(s.clone())
        }
        Node::Scalar(..) => {}
        Node::Seq(items) => items.iter().for_each(|i| templates(i, out)),
        Node::Map(pairs) => pairs.iter().for_each(|(k, v)| {
            templates(k, out);
            templates(v, out)
        }),
    }
}

/// A TOML basic string holding `s` exactly.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A runbook of fixed shape whose every text is one of `texts` (title, labels, choices, why,
/// confirm, ok_output, an argument, a file line), and the names its play and steps must get.
fn runbook_of(texts: &[&str]) -> (String, Vec<String>) {
    let t = |i: usize| texts[i % texts.len()];
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    // Braces doubled where `{name}` would be a variable, so these stay literal text.
    let lit = |s: &str| s.replace('{', "{{").replace('}', "}}");
    let toml = format!(
        r#"id = "fuzz"
title = {title}
[[variable]]
name = "pick"
type = "choice"
label = {label}
choices = [{choice}, "b"]
default = "b"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "m"
title = {m}
why = {why}
kind = "manual"
[[section.step]]
id = "c"
title = {c}
why = "w"
kind = "command"
confirm = {confirm}
commands = [["echo", {arg}]]
expect = [0, 3]
ok_output = [{ok}]
[[section.step]]
id = "f"
title = {f}
why = "w"
kind = "form"
fields = ["pick"]
[[section.step]]
id = "e"
title = {e}
why = "w"
kind = "edit"
[[section.step.edit]]
path = "/tmp/fieldbook-fuzz"
action = "ensure_line"
line = {line}
create = true
"#,
        title = toml_str(t(0)),
        label = toml_str(t(1)),
        choice = toml_str(t(2)),
        m = toml_str(t(3)),
        why = toml_str(t(4)),
        c = toml_str(t(5)),
        confirm = toml_str(t(6)),
        arg = toml_str(&lit(t(7))),
        ok = toml_str(t(8)),
        f = toml_str(t(9)),
        e = toml_str(t(10)),
        line = toml_str(&lit(&one_line(t(11)))),
    );
    let names = vec![
        format!("{} (fieldbook runbook fuzz)", t(0)),
        format!("m: {}", one_line(t(3))),
        format!("c: {}", one_line(t(5))),
        format!("f: {}", one_line(t(9))),
        format!("e: {}", one_line(t(10))),
    ];
    (toml, names)
}

/// The Ansible export of runbook texts (NUL-separated in the input): the playbook is YAML, one
/// play whose name and step task names are exactly their `!unsafe` texts, one task per step,
/// and no scalar Ansible would template holds anything but the exporter's own templates (the
/// same set a harmless runbook of the same shape gets).
pub fn export_ansible(data: &[u8]) {
    use fieldbook::core::export::{TargetPython, playbook};
    let text = String::from_utf8_lossy(data);
    let texts: Vec<&str> = text.split('\0').collect();
    let (toml, names) = runbook_of(&texts);
    let Ok(rb) = fieldbook::core::runbook::load_str("fuzz.toml", &toml) else {
        return;
    };
    let (plain_toml, _) = runbook_of(&["x"]);
    let plain = fieldbook::core::runbook::load_str("fuzz.toml", &plain_toml).expect("plain");
    for python in [TargetPython::Modern, TargetPython::Old] {
        let mut allowed = Vec::new();
        templates(&parse_playbook(&playbook(&plain, python)), &mut allowed);
        let out = playbook(&rb, python);
        let doc = parse_playbook(&out);
        let Node::Seq(plays) = &doc else {
            panic!("not a list of plays:\n{out}")
        };
        assert_eq!(plays.len(), 1, "{out}");
        let play = &plays[0];
        assert!(
            matches!(get(play, "name"), Node::Scalar(s, true) if *s == names[0]),
            "play name:\n{out}"
        );
        let Node::Seq(tasks) = get(play, "tasks") else {
            panic!("no task list:\n{out}")
        };
        assert_eq!(
            tasks.len(),
            names.len(),
            "an assert and one task per step:\n{out}"
        );
        for (task, name) in tasks[1..].iter().zip(&names[1..]) {
            assert!(
                matches!(get(task, "name"), Node::Scalar(s, true) if s == name),
                "{name}:\n{out}"
            );
        }
        let mut found = Vec::new();
        templates(&doc, &mut found);
        for t in found {
            assert!(
                allowed.contains(&t),
                "runbook text Ansible would template: {t:?}\n{out}"
            );
        }
    }
}
