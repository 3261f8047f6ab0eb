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
    for span in &line.spans {
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
    let shown = fieldbook::core::parse::printable(&stripped);
    assert!(!shown.chars().any(|c| c.is_control() && c != '\t'));
}
