//! Values written into files that another program sources or parses as code (sh, Python,
//! s-expressions): which files those are, and the characters a value may not carry there.

use std::collections::BTreeMap;

use crate::core::runbook::{Edit, EditAction};
use crate::core::vars;

/// Characters that are code, or end a quoted string, in a file another program sources or
/// parses: sh (`/etc/conf.d/net` is sourced by bash as root at boot), Python (Xen guest
/// configs) and s-expressions (`xend-config.sxp`).
pub const CODE_CHARS: &[char] = &['`', '$', ';', '&', '|', '<', '>', '(', ')', '"', '\'', '\\'];

/// The syntax another program reads `path` in, for the files fieldbook's runbooks edit that are
/// sourced or parsed as code: shell files (`/etc/conf.d/*`, `make.conf`, `rc.conf`,
/// `/etc/sysconfig/*`, `/etc/env.d/*`, `/etc/default/*`, init and cron scripts, `*.sh`), Xen's
/// s-expression config (`*.sxp`) and Xen guest configs (Python, anything else under
/// `/etc/xen/`). Other files (grub.conf, inittab, snmpd.conf, package.mask) are not code.
pub fn code_syntax(path: &str) -> Option<&'static str> {
    let sh_dirs = [
        "/etc/conf.d/",
        "/etc/sysconfig/",
        "/etc/env.d/",
        "/etc/default/",
        "/etc/init.d/",
        "/etc/rc.d/",
        "/etc/cron.",
        "/etc/profile",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.ends_with(".sxp") {
        Some("s-expression")
    } else if sh_dirs.iter().any(|d| path.contains(d))
        || name.ends_with(".sh")
        || matches!(name, "make.conf" | "rc.conf" | "profile.env")
    {
        Some("shell")
    } else if path.contains("/etc/xen/") {
        Some("Python")
    } else {
        None
    }
}

/// The first value that would become code in the file an edit writes, when that file is read
/// as code ([`code_syntax`] of the substituted path): a value placed *inside* a line
/// (`bridge_{ext_bridge}="{ext_if}"`, `vif = [ 'bridge={vm_bridge}' ]`) must be data there, so
/// it may hold no [`CODE_CHARS`] and no control character. A value that is a whole line by
/// itself (`line = "{clearos_vm_line}"`) is the technician's own line and is written as typed.
/// Returns the variable, the character and the file's syntax.
pub fn value_as_code(
    edit: &Edit,
    values: &BTreeMap<String, String>,
) -> Option<(String, char, &'static str)> {
    let syntax = code_syntax(&vars::substitute(&edit.path, values))?;
    let mut texts: Vec<&str> = Vec::new();
    match &edit.action {
        EditAction::EnsureLine { line, .. } => texts.push(line),
        EditAction::SetVar { key, value } => texts.extend([key.as_str(), value]),
        EditAction::AddWords { key, words } | EditAction::RemoveWords { key, words } => {
            texts.push(key);
            texts.extend(words.iter().map(String::as_str));
        }
        EditAction::EnsureBlock { block, .. } => texts.extend(block.lines()),
        EditAction::Symlink { target } => texts.push(target),
        // The Python edits quote their values themselves (`core::py_edit`); their names and
        // an s-expression form's name are bare syntax.
        EditAction::PythonListItem { key, .. }
        | EditAction::PythonAddWords { key, .. }
        | EditAction::CommentForm { key } => texts.push(key),
        // Checked whole by `py_edit::assign_line`: one assignment of a literal.
        EditAction::PythonLine { line } => texts.push(line),
        EditAction::CommentOut { .. } | EditAction::Uncomment { .. } | EditAction::Chmod { .. } => {
        }
    }
    let whole_line = |t: &str, name: &str| {
        matches!(
            &edit.action,
            EditAction::EnsureLine { .. }
                | EditAction::EnsureBlock { .. }
                | EditAction::PythonLine { .. }
        ) && t.trim() == format!("{{{name}}}")
    };
    for t in texts {
        for (_, name) in vars::references(t) {
            let Some(value) = values.get(&name) else {
                continue;
            };
            if whole_line(t, &name) {
                continue;
            }
            let bad = value
                .chars()
                .find(|c| c.is_control() || CODE_CHARS.contains(c));
            if let Some(c) = bad {
                return Some((name, c, syntax));
            }
        }
    }
    None
}
