//! File edits as Ansible tasks with the same effect and idempotence as fieldbook's edit engine:
//! `lineinfile`, `replace`, `blockinfile` and `file` for modern targets; for old targets a
//! POSIX sh + awk program per edit in a `raw` task, values passed in the environment (never
//! spliced into the program), the file rewritten in place so its mode and owner stay.

use crate::core::runbook::{Edit, EditAction};
use crate::core::yaml::Yaml;

use super::ansible::{Export, Task, raw, task};
use super::jinja::{self, Piece, jinja_string};

mod old;
use old::old_edit;

/// The tasks of an edit step, one or more per edit.
pub(super) fn edit_step(ex: &Export, name: &str, edits: &[Edit]) -> Vec<Task> {
    let mut tasks = Vec::new();
    for (i, e) in edits.iter().enumerate() {
        let sub = if edits.len() == 1 {
            name.to_string()
        } else {
            format!(
                "{name} ({}/{}: {} {})",
                i + 1,
                edits.len(),
                e.action.name(),
                e.path
            )
        };
        if ex.old() {
            tasks.push(raw(sub, old_edit(e)));
        } else {
            if e.create && creates_text(&e.action) {
                tasks.push(touch(&sub, e));
            }
            tasks.extend(modern_edit(&sub, e));
        }
    }
    tasks
}

/// Maps every piece of a template through `f` for its variable parts (an escaping filter).
fn with_filter(
    template: &str,
    lit: impl Fn(&str) -> String,
    expr: impl Fn(&str) -> String,
) -> Vec<Piece> {
    jinja::pieces(template)
        .into_iter()
        .map(|p| match p {
            Piece::Lit(s) => Piece::Lit(lit(&s)),
            Piece::Expr(e) => Piece::Expr(expr(&e)),
        })
        .collect()
}

/// A template used inside a Python regular expression.
fn regex(template: &str) -> Vec<Piece> {
    with_filter(template, regex_escape, |e| format!("{e} | regex_escape"))
}

/// A template used as the replacement text of Python's `re.sub` (only `\` is special there).
fn replacement(template: &str) -> Vec<Piece> {
    with_filter(
        template,
        |s| s.replace('\\', "\\\\"),
        |e| format!("{e} | replace('\\\\', '\\\\\\\\')"),
    )
}

/// Escapes text for a Python regular expression, as `re.escape` does.
fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii() {
            out.push(c);
        } else if c == '\n' {
            out.push_str("\\n");
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

fn lits(s: &str) -> Vec<Piece> {
    vec![Piece::Lit(s.to_string())]
}

fn cat(parts: Vec<Vec<Piece>>) -> Yaml {
    jinja::render(&parts.concat())
}

fn path(e: &Edit) -> (String, Yaml) {
    ("path".into(), jinja::template(&e.path))
}

fn modern_edit(name: &str, e: &Edit) -> Vec<Task> {
    let create = ("create".to_string(), Yaml::Bool(e.create));
    match &e.action {
        // The format-aware edits have no Ansible module: the same sh + awk program as for
        // old targets does them. Commenting is one of them: a rule continued with trailing
        // backslashes is commented as a whole, which a line regex (`replace`) cannot express.
        EditAction::CommentForm { .. }
        | EditAction::CommentOut { .. }
        | EditAction::Uncomment { .. }
        | EditAction::PythonLine { .. }
        | EditAction::PythonListItem { .. }
        | EditAction::PythonAddWords { .. } => vec![raw(name.to_string(), old_edit(e))],
        EditAction::EnsureLine {
            line,
            replace: None,
        } => vec![task(
            name,
            "ansible.builtin.lineinfile",
            Yaml::Map(vec![
                path(e),
                ("line".into(), jinja::template(line)),
                create,
            ]),
        )],
        EditAction::EnsureLine {
            line,
            replace: Some(pattern),
        } => replace_line_tasks(name, e, line, pattern),
        EditAction::SetVar { key, value } => vec![set_var_task(name, e, key, value)],
        EditAction::AddWords { key, words } => words_tasks(name, e, key, words, true),
        EditAction::RemoveWords { key, words } => words_tasks(name, e, key, words, false),
        EditAction::EnsureBlock { marker, block } => vec![block_task(name, e, marker, block)],
        EditAction::Chmod { executable: false } => vec![task(
            name,
            "ansible.builtin.file",
            Yaml::Map(vec![path(e), ("mode".into(), Yaml::str("a-x"))]),
        )],
        EditAction::Chmod { executable: true } => executable_tasks(name, e),
        EditAction::Symlink { target } => vec![task(
            name,
            "ansible.builtin.file",
            Yaml::Map(vec![
                path(e),
                ("src".into(), jinja::template(target)),
                ("state".into(), Yaml::str("link")),
            ]),
        )],
    }
}

/// `ensure_line` with `replace`: fieldbook replaces the FIRST active line containing the
/// text, else the first commented one, else appends — and changes nothing when the exact line
/// is there. lineinfile would take the last match, so the first two cases are `replace` tasks
/// guarded by a look-ahead that fails once the line exists.
fn replace_line_tasks(name: &str, e: &Edit, line: &str, pattern: &str) -> Vec<Task> {
    let guard = cat(vec![
        lits(r"\A(?![\s\S]*^"),
        regex(line),
        lits(r"$)((?:.*\n)*?)"),
    ]);
    let guard = match guard {
        Yaml::Str(s) | Yaml::Unsafe(s) => s,
        _ => String::new(),
    };
    let mut tasks = Vec::new();
    for (label, active) in [("active line", true), ("commented line", false)] {
        let head = if active {
            cat(vec![
                lits(&guard),
                lits("(?![ \\t]*"),
                regex(&e.comment),
                lits(")"),
                lits(".*"),
                regex(pattern),
                lits(".*$"),
            ])
        } else {
            cat(vec![lits(&guard), lits(".*"), regex(pattern), lits(".*$")])
        };
        tasks.push(task(
            format!("{name} (replace the first {label})"),
            "ansible.builtin.replace",
            Yaml::Map(vec![
                path(e),
                ("regexp".into(), head),
                (
                    "replace".into(),
                    cat(vec![lits("\\g<1>"), replacement(line)]),
                ),
            ]),
        ));
    }
    tasks.push(task(
        format!("{name} (append when still missing)"),
        "ansible.builtin.lineinfile",
        Yaml::Map(vec![path(e), ("line".into(), jinja::template(line))]),
    ));
    tasks
}

/// `set_var`: `KEY="value"` (shell-quoted), replacing an assignment of KEY, `export` or not.
fn set_var_task(name: &str, e: &Edit, key: &str, value: &str) -> Task {
    task(
        name,
        "ansible.builtin.lineinfile",
        Yaml::Map(vec![
            path(e),
            (
                "regexp".into(),
                cat(vec![
                    lits("^[ \\t]*(export[ \\t]+)?"),
                    regex(key),
                    lits("="),
                ]),
            ),
            (
                "line".into(),
                cat(vec![
                    jinja::pieces(key),
                    lits("=\""),
                    shell_dq(value),
                    lits("\""),
                ]),
            ),
            ("create".to_string(), Yaml::Bool(e.create)),
        ]),
    )
}

/// `ensure_block`: the block between fieldbook's BEGIN/END marker lines.
fn block_task(name: &str, e: &Edit, marker: &str, block: &str) -> Task {
    let body = block.strip_suffix('\n').unwrap_or(block);
    task(
        name,
        "ansible.builtin.blockinfile",
        Yaml::Map(vec![
            path(e),
            // Ansible puts BEGIN/END where {mark} stands: "# BEGIN fieldbook MARKER".
            (
                "marker".into(),
                cat(vec![
                    lits(&format!("{} {{mark}} fieldbook ", e.comment)),
                    jinja::pieces(marker),
                ]),
            ),
            ("marker_begin".into(), Yaml::str("BEGIN")),
            ("marker_end".into(), Yaml::str("END")),
            ("block".into(), jinja::template(body)),
            ("create".to_string(), Yaml::Bool(e.create)),
        ]),
    )
}

/// `chmod +x`: fieldbook adds execute only for the classes that may read (a private 0600 file
/// becomes 0700, not 0711), which a symbolic mode cannot say: the mode is read, then computed.
fn executable_tasks(name: &str, e: &Edit) -> Vec<Task> {
    let m = "(fb_stat.stat.mode | int(base=8))";
    let add: Vec<String> = [(256, 64), (32, 8), (4, 1)]
        .iter()
        .map(|(r, x)| {
            format!("((({m} // {r}) % 2 == 1 and ({m} // {x}) % 2 == 0) | ternary({x}, 0))")
        })
        .collect();
    let mut stat = task(
        format!("{name} (read the mode)"),
        "ansible.builtin.stat",
        Yaml::Map(vec![path(e)]),
    );
    stat.push(("register".into(), Yaml::str("fb_stat")));
    vec![
        stat,
        task(
            name,
            "ansible.builtin.file",
            Yaml::Map(vec![
                path(e),
                (
                    "mode".into(),
                    Yaml::str(format!("{{{{ '%04o' % ({m} + {}) }}}}", add.join(" + "))),
                ),
            ]),
        ),
    ]
}

/// Creates a missing file without touching an existing one.
fn touch(name: &str, e: &Edit) -> Task {
    // `copy` with `force: false` leaves an existing file alone, mode included, so the mode
    // applies only to a file the edit creates, as in the engine (`mode` on `lineinfile` would
    // chmod an existing file too).
    task(
        format!("{name} (create the file when missing)"),
        "ansible.builtin.copy",
        Yaml::Map(vec![
            ("dest".into(), jinja::template(&e.path)),
            ("content".into(), Yaml::str("")),
            ("force".into(), Yaml::Bool(false)),
            ("mode".into(), Yaml::str(new_file_mode(e))),
        ]),
    )
}

/// Whether the action writes text (and so may create its file); `chmod` and `symlink` do not.
fn creates_text(action: &EditAction) -> bool {
    !matches!(
        action,
        EditAction::Chmod { .. } | EditAction::Symlink { .. }
    )
}

/// The octal mode (`"0640"`) a file the edit creates gets: the runbook's `mode`, else 0644.
fn new_file_mode(e: &Edit) -> String {
    format!(
        "{:04o}",
        e.mode.unwrap_or(crate::core::apply::NEW_FILE_MODE) & 0o7777
    )
}

/// A value written between double quotes in a shell-style file, escaped as the engine does
/// (`"`, `\` and backquote; `$` stays live so `${CFLAGS}` keeps working).
fn shell_dq(template: &str) -> Vec<Piece> {
    let esc = |s: &str| {
        let mut o = String::new();
        for ch in s.chars() {
            if matches!(ch, '"' | '\\' | '`') {
                o.push('\\');
            }
            o.push(ch);
        }
        o
    };
    with_filter(template, esc, |e| {
        format!(
            "{e} | replace('\\\\', '\\\\\\\\') | replace('\"', '\\\\\"') | replace('`', '\\\\`')"
        )
    })
}

/// add_words / remove_words: read the file, work out the new word list in Jinja exactly as the
/// engine does (a negated `-word` gives way to `word`; new words go at the end; nothing changes
/// when the set of words is already right), then write `KEY="..."` with lineinfile.
fn words_tasks(name: &str, e: &Edit, key: &str, words: &[String], add: bool) -> Vec<Task> {
    let key_re = match cat(vec![regex(key)]) {
        Yaml::Str(s) | Yaml::Unsafe(s) => s,
        _ => String::new(),
    };
    let list: Vec<String> = words.iter().map(|w| word_expr(w)).collect();
    let list = format!("[{}]", list.join(", "));
    let mut slurp = task(
        format!("{name} (read the file)"),
        "ansible.builtin.slurp",
        Yaml::map([("src", jinja::template(&e.path))]),
    );
    slurp.push(("register".into(), Yaml::str("fb_file")));
    if e.create || add {
        slurp.push(("failed_when".into(), Yaml::Bool(false)));
    }
    let found = format!(
        "((fb_file.content | default('') | b64decode) | regex_findall({}, multiline=True))",
        jinja_string(&format!(
            r#"^[ \t]*(?:export[ \t]+)?{key_re}=(?:"([^"]*)"|'([^']*)'|([^ \t\n;#]*))"#
        ))
    );
    let current = format!("(({found} | last | default(['', '', ''])) | join(''))");
    let new = if add {
        let negs: Vec<String> = words
            .iter()
            .map(|w| match w.strip_prefix('-') {
                Some(pos) => word_expr(pos),
                None => word_expr(&format!("-{w}")),
            })
            .collect();
        format!(
            "(({current}.split() | reject('in', [{}]) | list) + ({list} | reject('in', {current}.split()) | list)) | join(' ')",
            negs.join(", ")
        )
    } else {
        format!("({current}.split() | reject('in', {list}) | list) | join(' ')")
    };
    let mut fact = task(
        format!("{name} (work out the words)"),
        "ansible.builtin.set_fact",
        Yaml::map([
            (
                "fb_found",
                Yaml::str(format!("{{{{ ({found} | length) > 0 }}}}")),
            ),
            ("fb_old", Yaml::str(format!("{{{{ {current} }}}}"))),
            ("fb_new", Yaml::str(format!("{{{{ {new} }}}}"))),
        ]),
    );
    fact.push(("no_log".into(), Yaml::Bool(false)));
    let mut write = task(
        name,
        "ansible.builtin.lineinfile",
        Yaml::Map(vec![
            path(e),
            (
                "regexp".into(),
                Yaml::str(format!("^[ \\t]*(export[ \\t]+)?{key_re}=")),
            ),
            (
                "line".into(),
                Yaml::str(format!("{}=\"{{{{ fb_new }}}}\"", key)),
            ),
            ("create".into(), Yaml::Bool(true)),
        ]),
    );
    let when = if add {
        "fb_new.split() != fb_old.split() or not fb_found"
    } else {
        "fb_found and fb_new.split() != fb_old.split()"
    };
    write.push(("when".into(), Yaml::str(when)));
    vec![slurp, fact, write]
}

/// One word of a word list as a Jinja expression.
fn word_expr(w: &str) -> String {
    let parts: Vec<String> = jinja::pieces(w)
        .into_iter()
        .map(|p| match p {
            Piece::Lit(s) => jinja_string(&s),
            Piece::Expr(e) => format!("({e})"),
        })
        .collect();
    parts.join(" ~ ")
}

// ---------------------------------------------------------------------------------------------
// Old targets: POSIX sh + awk, values through the environment.

#[cfg(test)]
mod tests;
