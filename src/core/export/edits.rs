//! File edits as Ansible tasks with the same effect and idempotence as fieldbook's edit engine:
//! `lineinfile`, `replace`, `blockinfile` and `file` for modern targets; for old targets a
//! POSIX sh + awk program per edit in a `raw` task, values passed in the environment (never
//! spliced into the program), the file rewritten in place so its mode and owner stay.

use crate::core::runbook::{Edit, EditAction};
use crate::core::yaml::Yaml;

use super::ansible::{Export, Task, raw, task};
use super::jinja::{self, Piece, jinja_string};

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

/// The awk program of each text action. It reads the file and prints the new content; the
/// shell wrapper replaces the file only when the content changed.
fn awk_program(action: &EditAction) -> &'static str {
    match action {
        EditAction::EnsureLine { .. } => AWK_ENSURE_LINE,
        EditAction::CommentOut { .. } => AWK_COMMENT_OUT,
        EditAction::Uncomment { .. } => AWK_UNCOMMENT,
        EditAction::SetVar { .. }
        | EditAction::AddWords { .. }
        | EditAction::RemoveWords { .. } => AWK_ASSIGN,
        EditAction::EnsureBlock { .. } => AWK_BLOCK,
        EditAction::CommentForm { .. } => AWK_COMMENT_FORM,
        EditAction::PythonListItem { .. }
        | EditAction::PythonAddWords { .. }
        | EditAction::PythonLine { .. } => AWK_PYTHON,
        EditAction::Chmod { .. } | EditAction::Symlink { .. } => "",
    }
}

/// Comments out every active top-level `(KEY ...)` form, reading the file as Xen's sxp.py
/// does (`#` comments, quoted strings, nested parentheses); refuses what the engine refuses.
const AWK_COMMENT_FORM: &str = r##"function refuse(ln, why) { print "fieldbook: line " ln ": " why "; fix it by hand first, nothing was changed" > "/dev/stderr"; exit 1 }
END {
  K = ENVIRON["FB_KEY"]; d = 0
  for (i = 1; i <= n; i++) {
    s = a[i]; L = length(s); j = 1
    while (j <= L) {
      ch = substr(s, j, 1)
      if (ch == "#") break
      if (ch == "'" || ch == "\"") {
        q = ch; j++
        while (1) {
          if (j > L) refuse(i, "a string that never closes on its line")
          c2 = substr(s, j, 1)
          if (c2 == "\\") { j += 2; continue }
          if (c2 == q) break
          j++
        }
      } else if (ch == "(") {
        d++; rest = substr(s, j + 1); ri = i
        while (rest ~ /^[ \t]*$/ && ri < n) { ri++; rest = a[ri] }
        sub(/^[ \t]+/, "", rest); sub(/^['"]/, "", rest); h = rest; sub(/[ \t()'"#].*$/, "", h)
        start[d] = i; hd[d] = h; pre[d] = substr(s, 1, j - 1)
        if (h == K && d > 1) refuse(i, "a (" K " ...) form inside another form")
        if (h == K && pre[d] !~ /^[ \t]*$/) refuse(i, "the (" K " ...) form shares its line with other text")
      } else if (ch == ")") {
        if (d == 0) refuse(i, "a ')' without its '('")
        if (hd[d] == K) {
          post = substr(s, j + 1)
          if (post !~ /^[ \t]*(#.*)?$/) refuse(i, "the (" K " ...) form shares its line with other text")
          for (k = start[d]; k <= i; k++) mark[k] = 1
        }
        d--
      }
      j++
    }
  }
  if (d > 0) refuse(start[d], "a '(' that never closes")
  for (i = 1; i <= n; i++) emit(mark[i] ? C a[i] : a[i])
  finish()
}
"##;

/// The Python-syntax edits (`FB_MODE` item or words), reading the file as the engine's
/// `py_edit` does for the layouts guest configs use: top-level `NAME = value` at the start of a
/// line, values over several lines inside brackets, one-line strings. Anything it cannot be
/// sure of (a triple-quoted string, `;`, a bracket that never closes, a list holding more than
/// quoted items) is refused with the line, nothing written.
const AWK_PYTHON: &str = r##"function refuse(ln, why) { print "fieldbook: line " ln ": " why "; fix it by hand first, nothing was changed" > "/dev/stderr"; exit 1 }
function q1(v,   c) { c = sprintf("%c", 39); if (v ~ /["\\]/ || index(v, c) || v ~ /[\001-\037\177]/) { print "fieldbook: '" v "' cannot be written as a Python string (no quotes, backslashes or control characters)" > "/dev/stderr"; exit 1 } return v }
END {
  K = ENVIRON["FB_KEY"]; P = ENVIRON["FB_PATTERN"]; V = ENVIRON["FB_VALUE"]; MODE = ENVIRON["FB_MODE"]
  SQ = sprintf("%c", 39); d = 0; cont = 0; cur = ""; hit = 0
  if (MODE == "line") {
    # One NAME = literal assignment (strings, numbers, [ ] / ( ) of them), as the engine checks.
    W = L; sub(/^[ \t]+/, "", W); sub(/[ \t]+$/, "", W)
    bad = "fieldbook: '" W "' is not one Python assignment of a literal (NAME = 'text', a number, or a [ ... ] list of them); nothing was changed"
    if (!match(W, /^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/) || substr(W, RLENGTH + 1, 1) == "=") { print bad > "/dev/stderr"; exit 1 }
    K = substr(W, 1, RLENGTH - 1); sub(/[ \t]+$/, "", K)
    r = substr(W, RLENGTH + 1); u = ""; x = 1; dd = 0
    while (x <= length(r)) {
      c = substr(r, x, 1)
      if (c == SQ || c == "\"") {
        y = x + 1
        while (y <= length(r) && substr(r, y, 1) != c) y += (substr(r, y, 1) == "\\") ? 2 : 1
        if (y > length(r)) { print bad > "/dev/stderr"; exit 1 }
        u = u "s"; x = y + 1; continue
      }
      if (c == "[" || c == "(") dd++
      if (c == "]" || c == ")") dd--
      if (dd < 0) { print bad > "/dev/stderr"; exit 1 }
      u = u c; x++
    }
    t = u; gsub(/[ \t]/, "", t)
    if (dd != 0 || t == "" || t !~ /^[s0-9\[\](),.+-]+$/) { print bad > "/dev/stderr"; exit 1 }
  }
  for (i = 1; i <= n; i++) {
    s = a[i]; L = length(s); j = 1
    if (d == 0 && !cont) {
      cur = ""
      if (match(s, /^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/) && substr(s, RLENGTH + 1, 1) != "=") {
        cur = substr(s, 1, RLENGTH - 1); sub(/[ \t]+$/, "", cur)
        j = RLENGTH + 1
        if (cur == K) { hit++; fl = i; fc = j; ns = 0; delete sl; delete sc; delete se; delete sv; delete sq }
      }
    }
    cont = 0
    while (j <= L) {
      c = substr(s, j, 1)
      if (c == "#") break
      if (c == "\\" && j == L) { cont = 1; break }
      if (c == SQ || c == "\"") {
        if (substr(s, j, 3) == c c c) refuse(i, "a triple-quoted string")
        k = j + 1; v = ""
        while (k <= L && substr(s, k, 1) != c) {
          if (substr(s, k, 1) == "\\") { v = v substr(s, k + 1, 1); k += 2; continue }
          v = v substr(s, k, 1); k++
        }
        if (k > L) refuse(i, "a string that never closes")
        if (cur == K) { ns++; sl[ns] = i; sc[ns] = j; se[ns] = k; sv[ns] = v; sq[ns] = c; ll = i; lc = k }
        j = k + 1; continue
      }
      if (c == "(" || c == "[" || c == "{") { d++; st[d] = c; sli[d] = i }
      else if (c == ")" || c == "]" || c == "}") {
        if (d == 0 || (c == ")" && st[d] != "(") || (c == "]" && st[d] != "[") || (c == "}" && st[d] != "{")) refuse(i, "a closing bracket that does not match")
        d--
        if (cur == K) { ll = i; lc = j }
      }
      else if (c == ";" && d == 0) refuse(i, "two statements on one line (';'); split them by hand first")
      else if (c !~ /[ \t]/ && cur == K) { ll = i; lc = j }
      j++
    }
  }
  if (d > 0) refuse(sli[d], "a bracket that never closes")
  if (!hit) {
    for (i = 1; i <= n; i++) emit(a[i])
    if (MODE == "line") emit(W)
    else if (MODE == "item") emit(K " = [ " SQ q1(V) SQ " ]"); else emit(K " = \"" q1(V) "\"")
    finish()
  }
  if (MODE == "line") {
    # The whole statement, from its name to the end of its value, becomes the line.
    a[fl] = W substr(a[ll], lc + 1); for (i = fl + 1; i <= ll; i++) a[i] = "\001"
    for (i = 1; i <= n; i++) if (a[i] != "\001") emit(a[i])
    finish()
  }
  if (MODE == "item") {
    # The value is [ ... ] holding quoted items, commas, blanks, comments and continuations only.
    if (substr(a[fl], fc) !~ /^[ \t]*\[/) refuse(fl, K " is not a [ ... ] list")
    for (i = fl; i <= ll; i++) {
      t = a[i]; from = (i == fl) ? fc : 1; to = (i == ll) ? lc : length(t)
      u = ""
      for (x = from; x <= to; x++) {
        inside = 0
        for (m2 = 1; m2 <= ns; m2++) if (sl[m2] == i && x >= sc[m2] && x <= se[m2]) inside = 1
        if (!inside) u = u substr(t, x, 1)
      }
      sub(/#.*$/, "", u); gsub(/[][ \t,\\]/, "", u)
      if (u != "") refuse(fl, K " holds something other than quoted items")
    }
    nh = 0
    for (m2 = 1; m2 <= ns; m2++) if (index(sv[m2], P)) { nh++; h = m2 }
    if (nh > 1) refuse(fl, "more than one item of " K " contains '" P "'")
    new = SQ q1(V) SQ
    if (nh == 1 && sv[h] == V) { for (i = 1; i <= n; i++) emit(a[i]); finish() }
    if (nh == 1) { i = sl[h]; a[i] = substr(a[i], 1, sc[h] - 1) new substr(a[i], se[h] + 1) }
    else if (ns > 0) { i = sl[ns]; a[i] = substr(a[i], 1, se[ns]) ", " new substr(a[i], se[ns] + 1) }
    else { t = substr(a[fl], fc); match(t, /^[ \t]*/); a[fl] = substr(a[fl], 1, fc - 1 + RLENGTH) "[ " new " ]" substr(a[ll], lc + 1); for (i = fl + 1; i <= ll; i++) a[i] = "\001" }
    for (i = 1; i <= n; i++) if (a[i] != "\001") emit(a[i])
    finish()
  }
  # words: the value is one quoted string; missing words are added, keeping its quote.
  if (ns != 1 || sl[1] != fl || ll != fl || lc != se[1] || substr(a[fl], fc) !~ /^[ \t]*["']/) refuse(fl, K " is not one quoted string")
  have = sv[1]; cnt = split(have, hw, /[ \t]+/); out = ""
  for (x = 1; x <= cnt; x++) if (hw[x] != "") out = (out == "") ? hw[x] : out " " hw[x]
  nw = split(V, ww, / /); added = 0
  for (x = 1; x <= nw; x++) { f = 0; for (y = 1; y <= cnt; y++) if (hw[y] == ww[x]) f = 1; if (!f) { out = (out == "") ? ww[x] : out " " ww[x]; hw[++cnt] = ww[x]; added = 1 } }
  if (!added) { for (i = 1; i <= n; i++) emit(a[i]); finish() }
  a[fl] = substr(a[fl], 1, sc[1] - 1) sq[1] q1(out) sq[1] substr(a[fl], se[1] + 1)
  for (i = 1; i <= n; i++) emit(a[i])
  finish()
}
"##;

const AWK_COMMON: &str = r#"function commented(l) { sub(/^[ \t]*/, "", l); return index(l, C) == 1 }
BEGIN { C = ENVIRON["FB_COMMENT"]; P = ENVIRON["FB_PATTERN"]; L = ENVIRON["FB_LINE"] }
{ a[++n] = $0; orig[n] = $0 }
function emit(l) { o[++m] = l; print l }
function finish(   i) { if (m != n) exit 0; for (i = 1; i <= n; i++) if (o[i] != orig[i]) exit 0; exit 10 }
"#;

const AWK_ENSURE_LINE: &str = r#"END {
  for (i = 1; i <= n; i++) if (a[i] == L) hit = i
  if (!hit && P != "") { for (i = 1; i <= n; i++) if (!commented(a[i]) && index(a[i], P)) { hit = i; break } }
  if (!hit && P != "") { for (i = 1; i <= n; i++) if (index(a[i], P)) { hit = i; break } }
  if (hit) a[hit] = L; else a[++n] = L
  for (i = 1; i <= n; i++) emit(a[i])
  finish()
}
"#;

/// A line ending in a backslash continues into the next (a long snort rule): the group is
/// commented or uncommented as a whole, as the engine does.
const AWK_COMMENT_OUT: &str = r#"END {
  i = 1
  while (i <= n) {
    if (commented(a[i])) { emit(a[i]); i++; continue }
    s = i
    while (i < n && a[i] ~ /\\[ \t\r]*$/ && !commented(a[i + 1])) i++
    hit = 0; for (k = s; k <= i; k++) if (index(a[k], P)) hit = 1
    for (k = s; k <= i; k++) emit(hit ? C a[k] : a[k])
    i++
  }
  finish()
}
"#;

const AWK_UNCOMMENT: &str = r#"END {
  i = 1
  while (i <= n) {
    if (!commented(a[i])) { emit(a[i]); i++; continue }
    s = i
    while (i < n && a[i] ~ /\\[ \t\r]*$/ && commented(a[i + 1])) i++
    hit = 0; for (k = s; k <= i; k++) if (index(a[k], P)) hit = 1
    for (k = s; k <= i; k++) {
      l = a[k]
      if (hit) {
        match(l, /^[ \t]*/); ind = substr(l, 1, RLENGTH); r = substr(l, RLENGTH + 1)
        while (index(r, C) == 1) r = substr(r, length(C) + 1)
        if (k == s && substr(r, 1, 1) == " ") r = substr(r, 2)
        l = ind r
      }
      emit(l)
    }
    i++
  }
  finish()
}
"#;

/// set_var / add_words / remove_words on single-line assignments: FB_MODE is set, add or remove.
const AWK_ASSIGN: &str = r#"function val(l,   v, q) {
  sub(/^[ \t]*(export[ \t]+)?/, "", l); v = substr(l, length(K) + 2); q = substr(v, 1, 1)
  if (q == "\"" || q == "'") { v = substr(v, 2); sub(q ".*$", "", v) } else sub(/[ \t;#].*$/, "", v)
  return v
}
function dq(v,   o, i, ch) { o = ""; for (i = 1; i <= length(v); i++) { ch = substr(v, i, 1); if (ch == "\"" || ch == "\\" || ch == "`") o = o "\\"; o = o ch } return "\"" o "\"" }
function norm(s) { gsub(/[ \t\n]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
function has(list, w,   x, m, i) { m = split(list, x, " "); for (i = 1; i <= m; i++) if (x[i] == w) return 1; return 0 }
END {
  K = ENVIRON["FB_KEY"]; V = ENVIRON["FB_VALUE"]; M = ENVIRON["FB_MODE"]
  for (i = 1; i <= n; i++) { l = a[i]; if (commented(l)) continue; sub(/^[ \t]*(export[ \t]+)?/, "", l); if (index(l, K "=") == 1) hit = i }
  old = hit ? val(a[hit]) : ""
  if (M == "set") new = V
  else {
    cnt = split(old, ow, /[ \t]+/); nw = split(V, ws, " "); new = ""
    for (i = 1; i <= cnt; i++) {
      if (ow[i] == "") continue
      drop = 0
      for (j = 1; j <= nw; j++) {
        if (M == "remove" && ow[i] == ws[j]) drop = 1
        if (M == "add" && (ow[i] == "-" ws[j] || "-" ow[i] == ws[j])) drop = 1
      }
      if (!drop) new = new (new == "" ? "" : " ") ow[i]
    }
    if (M == "add") for (j = 1; j <= nw; j++) if (!has(new, ws[j])) new = new (new == "" ? "" : " ") ws[j]
  }
  same = (M == "set") ? (hit && old == new) : (norm(old) == norm(new) && (hit || M == "remove"))
  if (M == "remove" && !hit) same = 1
  if (!same) {
    line = K "=" dq(new)
    if (hit) { match(a[hit], /^[ \t]*(export[ \t]+)?/); a[hit] = substr(a[hit], 1, RLENGTH) line } else a[++n] = line
  }
  for (i = 1; i <= n; i++) emit(a[i])
  finish()
}
"#;

const AWK_BLOCK: &str = r#"END {
  B = C " BEGIN fieldbook " ENVIRON["FB_MARKER"]; E = C " END fieldbook " ENVIRON["FB_MARKER"]
  body = ENVIRON["FB_BLOCK"]; sub(/\n$/, "", body)
  for (i = 1; i <= n; i++) { t = a[i]; sub(/[ \t\r]+$/, "", t); if (t == B && !s) s = i; if (t == E && !e) e = i }
  if ((s && !e) || (e && !s) || (s && e && s > e)) { print "fieldbook: broken block markers around " ENVIRON["FB_MARKER"] > "/dev/stderr"; exit 3 }
  if (!s) { for (i = 1; i <= n; i++) emit(a[i]); emit(B); nb = split(body, bl, "\n"); for (j = 1; j <= nb; j++) emit(bl[j]); emit(E); finish() }
  for (i = 1; i < s; i++) emit(a[i])
  emit(B); nb = split(body, bl, "\n"); for (j = 1; j <= nb; j++) emit(bl[j])
  for (i = e; i <= n; i++) emit(a[i])
  finish()
}
"#;

/// A `VAR=value ` environment prefix with the value quoted for the shell.
fn env_assign(name: &str, template: &str) -> Vec<Piece> {
    let mut p = vec![Piece::Lit(format!("{name}="))];
    p.extend(jinja::shell_word(template));
    p.push(Piece::Lit(" ".into()));
    p
}

fn old_edit(e: &Edit) -> Yaml {
    let mut p: Vec<Piece> = Vec::new();
    p.extend(env_assign("f", &e.path));
    p.pop();
    p.push(Piece::Lit("\n".into()));
    match &e.action {
        EditAction::Chmod { executable } => {
            p.push(Piece::Lit(if *executable {
                "p=$(ls -ld -- \"$f\") || exit 1; m=\n\
                 case $p in ?r*) m=u+x;; esac\n\
                 case $p in ????r*) m=${m:+$m,}g+x;; esac\n\
                 case $p in ???????r*) m=${m:+$m,}o+x;; esac\n\
                 [ -z \"$m\" ] || chmod \"$m\" -- \"$f\""
                    .to_string()
            } else {
                "chmod a-x -- \"$f\"".to_string()
            }));
        }
        EditAction::Symlink { target } => {
            p.extend(env_assign("t", target));
            p.pop();
            p.push(Piece::Lit(
                "\nif [ -L \"$f\" ] && [ \"$(ls -ld -- \"$f\" | awk '{sub(/^.* -> /, \"\"); print}')\" = \"$t\" ]; then echo 'already applied'\n\
                 elif [ -L \"$f\" ]; then ln -sfn -- \"$t\" \"$f\"\n\
                 elif [ -e \"$f\" ]; then echo \"fieldbook: $f exists and is not a symbolic link\" >&2; exit 1\n\
                 else ln -s -- \"$t\" \"$f\"; fi"
                    .into(),
            ));
        }
        action => {
            let mode = match action {
                EditAction::AddWords { .. } => "add",
                EditAction::RemoveWords { .. } => "remove",
                EditAction::PythonListItem { .. } => "item",
                EditAction::PythonAddWords { .. } => "words",
                EditAction::PythonLine { .. } => "line",
                _ => "set",
            };
            let mut env: Vec<Piece> = Vec::new();
            env.push(Piece::Lit(format!(
                "FB_COMMENT={} FB_MODE={mode} ",
                crate::core::shell_quote::quote(&e.comment)
            )));
            match action {
                EditAction::EnsureLine { line, replace } => {
                    env.extend(env_assign("FB_LINE", line));
                    env.extend(env_assign("FB_PATTERN", replace.as_deref().unwrap_or("")));
                }
                EditAction::CommentOut { pattern } | EditAction::Uncomment { pattern } => {
                    env.extend(env_assign("FB_PATTERN", pattern));
                }
                EditAction::SetVar { key, value } => {
                    env.extend(env_assign("FB_KEY", key));
                    env.extend(env_assign("FB_VALUE", value));
                }
                EditAction::AddWords { key, words } | EditAction::RemoveWords { key, words } => {
                    env.extend(env_assign("FB_KEY", key));
                    env.extend(env_assign("FB_VALUE", &words.join(" ")));
                }
                EditAction::EnsureBlock { marker, block } => {
                    env.extend(env_assign("FB_MARKER", marker));
                    env.extend(env_assign("FB_BLOCK", block));
                }
                EditAction::CommentForm { key } => env.extend(env_assign("FB_KEY", key)),
                EditAction::PythonListItem {
                    key,
                    pattern,
                    value,
                } => {
                    env.extend(env_assign("FB_KEY", key));
                    env.extend(env_assign("FB_PATTERN", pattern));
                    env.extend(env_assign("FB_VALUE", value));
                }
                EditAction::PythonAddWords { key, words } => {
                    env.extend(env_assign("FB_KEY", key));
                    env.extend(env_assign("FB_VALUE", &words.join(" ")));
                }
                EditAction::PythonLine { line } => env.extend(env_assign("FB_LINE", line)),
                EditAction::Chmod { .. } | EditAction::Symlink { .. } => {}
            }
            let missing = if e.create {
                format!(
                    "(umask 077 && : > \"$f\") && chmod {} \"$f\" || exit 1",
                    new_file_mode(e)
                )
            } else {
                "echo \"fieldbook: $f does not exist\" >&2; exit 1".to_string()
            };
            p.push(Piece::Lit(format!(
                "if [ ! -e \"$f\" ]; then {missing}; fi\n"
            )));
            p.extend(env);
            let program = format!("{AWK_COMMON}{}", awk_program(action));
            p.push(Piece::Lit(format!(
                "awk {} \"$f\" > \"$f.fieldbook-new\"; rc=$?\n\
                 if [ $rc = 10 ]; then rm -f \"$f.fieldbook-new\"; echo 'already applied'\n\
                 elif [ $rc = 0 ]; then cat \"$f.fieldbook-new\" > \"$f\" && rm -f \"$f.fieldbook-new\"\n\
                 else rm -f \"$f.fieldbook-new\"; exit $rc; fi",
                crate::core::shell_quote::quote(&program)
            )));
        }
    }
    jinja::render(&p)
}

#[cfg(test)]
mod tests {
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
}
