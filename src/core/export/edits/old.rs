//! Edits for old targets: one POSIX sh + awk program per edit in a `raw` task, its values passed
//! in the environment (never spliced into the program), the file rewritten in place.

use super::*;

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

pub(super) fn old_edit(e: &Edit) -> Yaml {
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
            let env = awk_env(e, action, mode);
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

/// The environment the awk program gets its values in (never spliced into the program): the
/// comment marker, the mode, and the action's texts as `FB_*` variables.
fn awk_env(e: &Edit, action: &EditAction, mode: &str) -> Vec<Piece> {
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
    env
}
