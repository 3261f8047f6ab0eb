//! Command and script steps as Ansible tasks: argv through `command` (never a shell), scripts
//! through `shell` with their explicit interpreter, `rc-update` as `service` with a runlevel,
//! `emerge` as `community.general.portage` where that module expresses the same invocation —
//! or, for old targets, everything as one quoted `raw` command line.

use crate::core::runbook::{Arg, OptionalArg, Program, RunSpec, Step, words};
use crate::core::shell_quote;
use crate::core::yaml::Yaml;

use super::ansible::{Export, Task, pause, raw, step_name, task};
use super::jinja::{self, Piece, jinja_string};

/// The tasks of a command or script step.
pub(super) fn run_step(ex: &Export, step: &Step, spec: &RunSpec) -> Vec<Task> {
    let name = step_name(step);
    let mut programs: Vec<Program> = Vec::new();
    for p in &spec.programs {
        match p {
            // A reboot step's own `reboot` is replaced by Ansible's, which waits for the host.
            Program::Argv(argv) if step.reboot && is_reboot(argv) => {}
            Program::Argv(argv) if spec.interactive => match non_interactive(argv) {
                Some(a) => programs.push(Program::Argv(a)),
                None => {
                    let line = hand_line(argv);
                    return vec![pause(
                        name,
                        format!(
                            "{}\n\n{}\n\nThis step needs a terminal and has no non-interactive form. \
                             Run it by hand on the host:\n\n  {line}\n\nthen press Enter.",
                            step.title,
                            step.why.trim()
                        ),
                    )];
                }
            },
            other => programs.push(other.clone()),
        }
    }
    if programs.is_empty() {
        return Vec::new();
    }
    if ex.old() {
        return vec![raw(name, old_line(ex, spec, &programs))];
    }
    let mut tasks = Vec::new();
    let guarded = spec.check.is_some();
    if let Some(check) = &spec.check {
        let mut t = task(
            format!("{name} (already done?)"),
            "ansible.builtin.command",
            Yaml::map([("argv", argv_yaml(check))]),
        );
        t.push(("register".into(), Yaml::str("fb_check")));
        t.push(("failed_when".into(), Yaml::Bool(false)));
        t.push(("changed_when".into(), Yaml::Bool(false)));
        tasks.push(t);
    }
    let count = programs.len();
    for (i, p) in programs.iter().enumerate() {
        let sub = if count == 1 {
            name.clone()
        } else {
            format!("{name} ({}/{count})", i + 1)
        };
        // `shows` judges the last program's output, so that one stays a command whose output
        // is registered, never a module that judges itself.
        let shows: &[String] = if i + 1 == count { &spec.shows } else { &[] };
        let mut t = modern_task(ex, sub, p, !shows.is_empty());
        if !is_module_with_own_result(&t) {
            if let Some(cond) = failed_when(spec, shows) {
                t.push(("register".into(), Yaml::str("fb_result")));
                t.push(("failed_when".into(), Yaml::str(cond)));
                if !spec.ok_output.is_empty() {
                    let texts = spec.ok_output.iter().map(|o| Yaml::Unsafe(o.clone()));
                    add_var(&mut t, "fb_ok_output", Yaml::Seq(texts.collect()));
                }
                if !shows.is_empty() {
                    let texts = shows.iter().map(|o| jinja::template(o));
                    add_var(&mut t, "fb_shows", Yaml::Seq(texts.collect()));
                }
            }
        }
        if spec.long {
            // Hours-long steps run detached from the SSH session, as fieldbook's supervisor does.
            t.push(("async".into(), Yaml::Int(86_400)));
            t.push(("poll".into(), Yaml::Int(30)));
        }
        if guarded {
            t.push(("when".into(), Yaml::str("fb_check.rc != 0")));
        }
        tasks.push(t);
    }
    tasks
}

fn is_reboot(argv: &[Arg]) -> bool {
    matches!(
        argv.first().map(|a| basename(a.text())),
        Some("reboot" | "shutdown")
    )
}

/// A command as the technician would type it, an optional element in brackets with the value
/// that puts it in.
fn hand_line(argv: &[Arg]) -> String {
    argv.iter()
        .map(|a| match a {
            Arg::Word(w) => shell_quote::quote(w),
            Arg::Optional(o) => format!(
                "[{} if {} is {}]",
                shell_quote::quote(&o.arg),
                o.var,
                shell_quote::quote(&o.is)
            ),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds one entry to a task's `vars`, making the map when the task has none yet.
fn add_var(t: &mut Task, name: &str, value: Yaml) {
    if let Some((_, Yaml::Map(vars))) = t.iter_mut().find(|(k, _)| k == "vars") {
        vars.push((name.to_string(), value));
        return;
    }
    t.push(("vars".into(), Yaml::Map(vec![(name.to_string(), value)])));
}

/// The Jinja test that puts an optional element in: `unattended == 'yes'`.
fn present_test(o: &OptionalArg) -> String {
    format!("({} == {})", o.var, jinja_string(&o.is))
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The non-interactive form of an interactive command, where one means the same thing:
/// `emerge` without `--ask` (the playbook itself was the confirmation).
fn non_interactive(argv: &[Arg]) -> Option<Vec<Arg>> {
    if argv.first().map(|a| basename(a.text())) != Some("emerge") {
        return None;
    }
    let mut out = Vec::new();
    for arg in argv {
        let Arg::Word(a) = arg else {
            out.push(arg.clone());
            continue;
        };
        if a == "--ask" || a == "--ask=y" {
            continue;
        }
        if a.starts_with('-') && !a.starts_with("--") && a.contains('a') {
            let rest: String = a.chars().filter(|&c| c != 'a').collect();
            if rest != "-" {
                out.push(Arg::Word(rest));
            }
            continue;
        }
        out.push(arg.clone());
    }
    Some(out)
}

/// True for module tasks (portage, service) whose success is judged by the module itself.
fn is_module_with_own_result(t: &Task) -> bool {
    t.iter()
        .any(|(k, _)| k == "community.general.portage" || k == "ansible.builtin.service")
}

/// `failed_when` for a step whose success is more than exit status 0; it refers to the
/// `ok_output` and `shows` texts by name (`fb_ok_output`, `fb_shows`), never by value.
fn failed_when(spec: &RunSpec, shows: &[String]) -> Option<String> {
    if spec.expect == [0] && spec.ok_output.is_empty() && shows.is_empty() {
        return None;
    }
    let codes: Vec<String> = spec.expect.iter().map(i32::to_string).collect();
    let mut cond = format!("fb_result.rc not in [{}]", codes.join(", "));
    if !spec.ok_output.is_empty() {
        // The texts themselves are the task's `fb_ok_output` var, tagged `!unsafe`: a string
        // constant inside a conditional is templated by ansible-core 2.19.
        let texts: Vec<String> = (0..spec.ok_output.len())
            .map(|i| {
                let t = format!("fb_ok_output[{i}]");
                format!("{t} in fb_result.stdout or {t} in fb_result.stderr")
            })
            .collect();
        cond = format!("{cond} and not ({})", texts.join(" or "));
    }
    if !shows.is_empty() {
        // The texts are the task's `fb_shows` var: `!unsafe` where they are plain text, and
        // where they name a variable, its value is data (`!unsafe` in the play's vars).
        let texts: Vec<String> = (0..shows.len())
            .map(|i| {
                let t = format!("fb_shows[{i}]");
                format!("{t} in fb_result.stdout or {t} in fb_result.stderr")
            })
            .collect();
        cond = format!("({cond}) or not ({})", texts.join(" or "));
    }
    Some(cond)
}

fn argv_yaml(argv: &[String]) -> Yaml {
    Yaml::Seq(argv.iter().map(|a| jinja::template(a)).collect())
}

/// A command's `argv` for the `command` module. Without optional elements it is the list
/// itself. With them, the words are runs kept in task vars (`fb_argv_N`, each element data as
/// written) and `argv` is one Jinja expression adding each optional run only when its
/// variable has the value: absent means absent, never an empty argument.
fn command_argv(argv: &[Arg]) -> (Yaml, Vec<(String, Yaml)>) {
    if argv.iter().all(|a| a.optional().is_none()) {
        return (argv_yaml(&words(argv)), Vec::new());
    }
    let mut vars: Vec<(String, Yaml)> = Vec::new();
    let mut terms: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |vars: &mut Vec<(String, Yaml)>, terms: &mut Vec<String>, run: &mut Vec<String>| {
        if !run.is_empty() {
            let name = format!("fb_argv_{}", vars.len());
            vars.push((name.clone(), argv_yaml(run)));
            terms.push(name);
            run.clear();
        }
    };
    for a in argv {
        match a {
            Arg::Word(w) => run.push(w.clone()),
            Arg::Optional(o) => {
                flush(&mut vars, &mut terms, &mut run);
                let name = format!("fb_argv_{}", vars.len());
                vars.push((name.clone(), Yaml::Seq(vec![Yaml::Unsafe(o.arg.clone())])));
                terms.push(format!("({name} if {} else [])", present_test(o)));
            }
        }
    }
    flush(&mut vars, &mut terms, &mut run);
    (Yaml::Str(format!("{{{{ {} }}}}", terms.join(" + "))), vars)
}

/// One program as the most natural module for a host with a modern Python.
fn modern_task(ex: &Export, name: String, program: &Program, plain: bool) -> Task {
    match program {
        Program::Script { shell, script } => {
            let mut t = task(
                name,
                "ansible.builtin.shell",
                Yaml::map([
                    ("cmd", jinja::render(&[Piece::Lit(script.clone())])),
                    ("executable", jinja::render(&[Piece::Lit(shell.clone())])),
                ]),
            );
            if !ex.used.is_empty() {
                t.push(("environment".into(), ex.script_env()));
            }
            t
        }
        Program::Argv(argv) => {
            if let Some(args) = rc_update_service(argv).filter(|_| !plain) {
                return task(name, "ansible.builtin.service", args);
            }
            if let Some(args) = portage(argv).filter(|_| !plain) {
                return task(name, "community.general.portage", args);
            }
            let (value, vars) = command_argv(argv);
            let mut t = task(
                name,
                "ansible.builtin.command",
                Yaml::map([("argv", value)]),
            );
            for (k, v) in vars {
                add_var(&mut t, &k, v);
            }
            t
        }
    }
}

/// `rc-update add|del SERVICE RUNLEVEL` is the `service` module with `runlevel` (OpenRC).
fn rc_update_service(argv: &[Arg]) -> Option<Yaml> {
    let [
        Arg::Word(prog),
        Arg::Word(verb),
        Arg::Word(service),
        Arg::Word(level),
    ] = argv
    else {
        return None;
    };
    if basename(prog) != "rc-update" {
        return None;
    }
    let enabled = match verb.as_str() {
        "add" | "-a" => true,
        "del" | "delete" | "-d" => false,
        _ => return None,
    };
    Some(Yaml::map([
        ("name", jinja::template(service)),
        ("enabled", Yaml::Bool(enabled)),
        ("runlevel", jinja::template(level)),
    ]))
}

/// `emerge` invocations that `community.general.portage` performs identically; anything else
/// (`--pretend`, `--resume`, `--depclean --deep`, unknown options) stays a command.
fn portage(argv: &[Arg]) -> Option<Yaml> {
    let (prog, args) = argv.split_first()?;
    if basename(prog.text()) != "emerge" {
        return None;
    }
    // An optional `--flag` is the module's boolean, true when its variable has the value.
    let mut optional: Vec<(&'static str, String)> = Vec::new();
    let mut plain: Vec<&String> = Vec::new();
    for a in args {
        match a {
            Arg::Word(w) => plain.push(w),
            Arg::Optional(o) => {
                let flag = portage_flag(o.arg.strip_prefix("--")?)?;
                if flag == "noreplace" {
                    return None; // written below as the runbook's plain choice
                }
                optional.push((flag, present_test(o)));
            }
        }
    }
    let args = plain;
    let mut flags: Vec<&'static str> = Vec::new();
    let mut packages: Vec<String> = Vec::new();
    let mut sync = false;
    let mut depclean = false;
    for a in args {
        let long: Vec<&str> = if let Some(l) = a.strip_prefix("--") {
            vec![l]
        } else if let Some(s) = a.strip_prefix('-') {
            short_options(s)?
        } else {
            packages.push(match a.as_str() {
                "world" | "system" => format!("@{a}"),
                _ => a.clone(),
            });
            continue;
        };
        for l in long {
            let flag = match l {
                "sync" => {
                    sync = true;
                    continue;
                }
                "depclean" => {
                    depclean = true;
                    continue;
                }
                other => portage_flag(other)?,
            };
            flags.push(flag);
        }
    }
    module_args(sync, depclean, &packages, &flags, optional)
}

/// The portage module's arguments for what the emerge line asks: a sync, a depclean or
/// packages, each flag a boolean, an optional one true when its variable has its value. None
/// when the module cannot say the same (the step stays a plain command).
fn module_args(
    sync: bool,
    depclean: bool,
    packages: &[String],
    flags: &[&'static str],
    optional: Vec<(&'static str, String)>,
) -> Option<Yaml> {
    let mut out: Vec<(String, Yaml)> = Vec::new();
    if sync {
        // The module syncs and stops when no package is named; anything more stays a command.
        if depclean || !packages.is_empty() || flags.iter().any(|f| !matches!(*f, "quiet")) {
            return None;
        }
        out.push(("sync".into(), Yaml::str("yes")));
    } else if depclean {
        // The module's depclean passes only --quiet/--verbose (not --deep): same or nothing.
        if !packages.is_empty() || flags.iter().any(|f| !matches!(*f, "quiet" | "verbose")) {
            return None;
        }
        out.push(("depclean".into(), Yaml::Bool(true)));
    } else {
        if packages.is_empty() {
            return None;
        }
        out.push((
            "package".into(),
            Yaml::Seq(packages.iter().map(|p| jinja::template(p)).collect()),
        ));
        // The module defaults to --noreplace (skip installed packages); plain `emerge ATOM`
        // re-emerges, so say which one the runbook meant.
        out.push(("noreplace".into(), Yaml::Bool(flags.contains(&"noreplace"))));
    }
    for &f in flags {
        if f != "noreplace" {
            out.push((f.into(), Yaml::Bool(true)));
        }
    }
    for (f, test) in optional.into_iter().filter(|(f, _)| !flags.contains(f)) {
        out.push((f.into(), Yaml::Str(format!("{{{{ {test} }}}}"))));
    }
    Some(Yaml::Map(out))
}

/// The long names of bundled short emerge options (`-uDN`: update, deep, newuse); None for
/// a letter the export does not know, which keeps the step a plain command.
fn short_options(letters: &str) -> Option<Vec<&'static str>> {
    letters
        .chars()
        .map(|c| {
            Some(match c {
                'u' => "update",
                'D' => "deep",
                'N' => "newuse",
                'U' => "changed-use",
                '1' => "oneshot",
                'n' => "noreplace",
                'O' => "nodeps",
                'o' => "onlydeps",
                'q' => "quiet",
                'v' => "verbose",
                'g' => "getbinpkg",
                'G' => "getbinpkgonly",
                'k' => "usepkg",
                'K' => "usepkgonly",
                'c' => "depclean",
                _ => return None,
            })
        })
        .collect()
}

/// The portage module's boolean for an emerge long option, when it has one.
fn portage_flag(long: &str) -> Option<&'static str> {
    Some(match long {
        "update" => "update",
        "deep" => "deep",
        "newuse" => "newuse",
        "changed-use" => "changed_use",
        "oneshot" => "oneshot",
        "noreplace" => "noreplace",
        "nodeps" => "nodeps",
        "onlydeps" => "onlydeps",
        "quiet" => "quiet",
        "verbose" => "verbose",
        "getbinpkg" => "getbinpkg",
        "getbinpkgonly" => "getbinpkgonly",
        "usepkg" => "usepkg",
        "usepkgonly" => "usepkgonly",
        "keep-going" => "keepgoing",
        _ => return None,
    })
}

/// A command as shell words for `raw`: an optional element is one Jinja expression giving
/// ` WORD` (quoted) when its variable has the value and nothing otherwise.
fn shell_command(argv: &[Arg]) -> Vec<Piece> {
    let mut out = Vec::new();
    for (i, a) in argv.iter().enumerate() {
        match a {
            Arg::Word(w) => {
                if i > 0 {
                    out.push(Piece::Lit(" ".into()));
                }
                out.extend(jinja::shell_word(w));
            }
            Arg::Optional(o) => out.push(Piece::Expr(format!(
                "{} if {} else ''",
                jinja_string(&format!(" {}", shell_quote::quote(&o.arg))),
                present_test(o)
            ))),
        }
    }
    out
}

/// The whole step as one POSIX shell command line for `raw`: each argument quoted, variables
/// quoted by Ansible's `quote` filter, the check first, then each program in order; the first
/// failure ends the command with that program's exit status.
fn old_line(ex: &Export, spec: &RunSpec, programs: &[Program]) -> Yaml {
    let mut p: Vec<Piece> = Vec::new();
    let lit = |p: &mut Vec<Piece>, s: &str| p.push(Piece::Lit(s.to_string()));
    if let Some(check) = &spec.check {
        lit(&mut p, "if ");
        p.extend(jinja::shell_line(check));
        lit(
            &mut p,
            " >/dev/null 2>&1; then echo 'already done: the check passed'; exit 0; fi\n",
        );
    }
    let codes: Vec<String> = spec.expect.iter().map(i32::to_string).collect();
    for (i, program) in programs.iter().enumerate() {
        let shows: &[String] = if i + 1 == programs.len() {
            &spec.shows
        } else {
            &[]
        };
        let mut cmd: Vec<Piece> = Vec::new();
        match program {
            Program::Argv(argv) => cmd.extend(shell_command(argv)),
            Program::Script { shell, script } => {
                // Variables reach the script as FB_<name> in its environment, never spliced.
                for v in &ex.used {
                    cmd.push(Piece::Lit(format!("FB_{}=", v.name)));
                    cmd.push(Piece::Expr(format!("{} | quote", v.name)));
                    cmd.push(Piece::Lit(" ".into()));
                }
                cmd.push(Piece::Lit(format!(
                    "{} -c {}",
                    shell_quote::quote(shell),
                    shell_quote::quote(script)
                )));
            }
        }
        if spec.ok_output.is_empty() && shows.is_empty() && spec.expect == [0] {
            p.extend(cmd);
            lit(&mut p, " || exit $?\n");
        } else if spec.ok_output.is_empty() && shows.is_empty() {
            p.extend(cmd);
            lit(
                &mut p,
                &format!(
                    "\nfb_rc=$?; case $fb_rc in {}) ;; *) exit $fb_rc;; esac\n",
                    codes.join("|")
                ),
            );
        } else {
            // Output that means "already done" is looked for in stdout and stderr together.
            lit(&mut p, "fb_out=$(");
            p.extend(cmd);
            lit(&mut p, " 2>&1); fb_rc=$?; printf '%s\\n' \"$fb_out\"\n");
            let pats: Vec<String> = spec
                .ok_output
                .iter()
                .map(|t| format!("*{}*", shell_quote::quote(t)))
                .collect();
            let otherwise = if pats.is_empty() {
                "exit $fb_rc".to_string()
            } else {
                format!(
                    "case $fb_out in {}) ;; *) exit $fb_rc;; esac",
                    pats.join("|")
                )
            };
            lit(
                &mut p,
                &format!(
                    "case $fb_rc in {}) ;; *) {otherwise};; esac\n",
                    codes.join("|")
                ),
            );
            if !shows.is_empty() {
                shows_case(&mut p, shows);
            }
        }
    }
    // Drop the final newline so a one-program step is one readable line.
    if let Some(Piece::Lit(last)) = p.last_mut() {
        while last.ends_with('\n') {
            last.pop();
        }
    }
    jinja::render(&p)
}

/// The `shows` check of a `raw` line: the captured output must hold one of the texts, each a
/// quoted shell word (a variable's value quoted by Ansible's `quote`), so it is matched as
/// plain text, never as a pattern.
fn shows_case(p: &mut Vec<Piece>, shows: &[String]) {
    p.push(Piece::Lit("case $fb_out in ".into()));
    for (i, text) in shows.iter().enumerate() {
        p.push(Piece::Lit(if i == 0 { "*" } else { "|*" }.into()));
        p.extend(jinja::shell_word(text));
        p.push(Piece::Lit("*".into()));
    }
    p.push(Piece::Lit(
        ") ;; *) echo 'fieldbook: the output does not show what the step checks' >&2; exit 1;; esac\n"
            .into(),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::ansible::{TargetPython, playbook};
    use crate::core::runbook::load_str;

    fn export(step: &str, python: TargetPython) -> String {
        let src = format!(
            "id = \"t\"\ntitle = \"T\"\n[[variable]]\nname = \"atom\"\ntype = \"text\"\ndefault = \"x\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"st\"\ntitle = \"Do\"\nwhy = \"w\"\n{step}"
        );
        playbook(&load_str("t.toml", &src).unwrap(), python)
    }

    #[test]
    fn argv_uses_command_with_argv_and_hostile_values_stay_one_argument() {
        let out = export(
            "kind = \"command\"\ncommands = [[\"quickpkg\", \"{atom}\", \"; rm -rf / $(reboot) \\\"quoted\\\" 'single'\"]]\n",
            TargetPython::Modern,
        );
        assert!(out.contains("      ansible.builtin.command:\n        argv:\n          - !unsafe quickpkg\n          - \"{{ atom }}\"\n          - !unsafe \"; rm -rf / $(reboot) \\\"quoted\\\" 'single'\"\n"), "{out}");
        let old = export(
            "kind = \"command\"\ncommands = [[\"quickpkg\", \"{atom}\", \"; rm -rf / $(reboot) \\\"quoted\\\" 'single'\"]]\n",
            TargetPython::Old,
        );
        assert!(old.contains("ansible.builtin.raw:\n        _raw_params: \"quickpkg {{ atom | quote }} '; rm -rf / $(reboot) \\\"quoted\\\" '\\\\''single'\\\\''' || exit $?\""), "{old}");
    }

    #[test]
    fn script_gets_its_shell_and_variables_as_environment() {
        let out = export(
            "kind = \"script\"\nshell = \"/bin/bash\"\nscript = \"echo \\\"$FB_atom\\\"\\n\"\n",
            TargetPython::Modern,
        );
        assert!(out.contains("ansible.builtin.shell:\n        cmd: !unsafe |\n          echo \"$FB_atom\"\n        executable: !unsafe /bin/bash\n      environment:\n        FB_atom: \"{{ atom }}\"\n"), "{out}");
        let old = export(
            "kind = \"script\"\nshell = \"/bin/bash\"\nscript = \"echo \\\"$FB_atom\\\"\\n\"\n",
            TargetPython::Old,
        );
        assert!(
            old.contains(
                "FB_atom={{ atom | quote }} /bin/bash -c 'echo \"$FB_atom\"\n          ' || exit $?"
            ),
            "{old}"
        );
    }

    #[test]
    fn rc_update_becomes_service_with_runlevel_and_ok_output_is_kept() {
        let step = "kind = \"command\"\ncommands = [[\"rc-update\", \"del\", \"net.eth0\", \"default\"]]\nexpect = [0]\nok_output = [\"is not in the runlevel\"]\n";
        let out = export(step, TargetPython::Modern);
        assert!(out.contains("ansible.builtin.service:\n        name: !unsafe net.eth0\n        enabled: false\n        runlevel: !unsafe default\n"), "{out}");
        let old = export(step, TargetPython::Old);
        assert!(
            old.contains("fb_out=$(rc-update del net.eth0 default 2>&1); fb_rc=$?"),
            "{old}"
        );
        assert!(
            old.contains("case $fb_out in *'is not in the runlevel'*) ;;"),
            "{old}"
        );
    }

    #[test]
    fn emerge_maps_to_portage_without_ask_or_stays_a_command() {
        let out = export(
            "kind = \"command\"\ninteractive = true\ncommands = [[\"emerge\", \"--update\", \"--deep\", \"--newuse\", \"world\", \"--ask\"]]\n",
            TargetPython::Modern,
        );
        assert!(out.contains("community.general.portage:\n        package:\n          - !unsafe \"@world\"\n        noreplace: false\n        update: true\n        deep: true\n        newuse: true\n"), "{out}");
        let out = export(
            "kind = \"command\"\ncommands = [[\"emerge\", \"--sync\"]]\n",
            TargetPython::Modern,
        );
        assert!(
            out.contains("community.general.portage:\n        sync: \"yes\"\n"),
            "{out}"
        );
        let out = export(
            "kind = \"command\"\ninteractive = true\ncommands = [[\"emerge\", \"--depclean\", \"--deep\", \"--ask\"]]\n",
            TargetPython::Modern,
        );
        assert!(out.contains("ansible.builtin.command:\n        argv:\n          - !unsafe emerge\n          - !unsafe \"--depclean\"\n          - !unsafe \"--deep\"\n"), "{out}");
        let old = export(
            "kind = \"command\"\ninteractive = true\ncommands = [[\"emerge\", \"-uDNav\", \"world\"]]\n",
            TargetPython::Old,
        );
        assert!(
            old.contains("ansible.builtin.raw:\n        _raw_params: !unsafe \"emerge -uDNv world || exit $?\""),
            "{old}"
        );
    }

    fn export_optional(commands: &str, python: TargetPython) -> String {
        let src = format!(
            "id = \"t\"\ntitle = \"T\"\n[[variable]]\nname = \"unattended\"\ntype = \"choice\"\nchoices = [\"no\", \"yes\"]\ndefault = \"no\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"st\"\ntitle = \"Do\"\nwhy = \"w\"\nkind = \"command\"\ncommands = [{commands}]\n"
        );
        playbook(&load_str("t.toml", &src).unwrap(), python)
    }

    /// An optional element stays an element: the portage module's boolean, a list expression
    /// over `!unsafe` task vars for `command`, a Jinja expression giving ` WORD` or nothing
    /// on a `raw` line. Never an empty argument.
    #[test]
    fn an_optional_argument_is_present_or_absent_in_every_export() {
        let opt = "{ arg = \"--keep-going\", if = \"unattended\", is = \"yes\" }";
        let out = export_optional(
            &format!("[\"emerge\", \"--update\", \"world\", {opt}]"),
            TargetPython::Modern,
        );
        assert!(
            out.contains(
                "        update: true\n        keepgoing: \"{{ (unattended == 'yes') }}\"\n"
            ),
            "{out}"
        );
        let out = export_optional(
            &format!("[\"printf\", \"%s|\", \"a\", {opt}, \"z\"]"),
            TargetPython::Modern,
        );
        assert!(out.contains("        argv: \"{{ fb_argv_0 + (fb_argv_1 if (unattended == 'yes') else []) + fb_argv_2 }}\"\n"), "{out}");
        assert!(out.contains("        fb_argv_0:\n          - !unsafe printf\n          - !unsafe \"%s|\"\n          - !unsafe a\n"), "{out}");
        assert!(
            out.contains("        fb_argv_1:\n          - !unsafe \"--keep-going\"\n"),
            "{out}"
        );
        assert!(
            out.contains("        fb_argv_2:\n          - !unsafe z\n"),
            "{out}"
        );
        let old = export_optional(
            &format!("[\"emerge\", \"world\", {opt}]"),
            TargetPython::Old,
        );
        assert!(
            old.contains("_raw_params: \"emerge world{{ ' --keep-going' if (unattended == 'yes') else '' }} || exit $?\""),
            "{old}"
        );
    }

    #[test]
    fn interactive_without_a_batch_form_pauses_with_the_command() {
        let out = export(
            "kind = \"command\"\ninteractive = true\ncommands = [[\"etc-update\"]]\n",
            TargetPython::Modern,
        );
        assert!(out.contains("ansible.builtin.pause:"), "{out}");
        assert!(
            out.contains("Run it by hand on the host:\n\n            etc-update\n"),
            "{out}"
        );
    }

    #[test]
    fn check_guards_and_expect_codes_fail_the_task() {
        let step = "kind = \"command\"\ncommands = [[\"yum\", \"check-update\"]]\nexpect = [0, 100]\ncheck = [\"test\", \"-e\", \"/x\"]\n";
        let out = export(step, TargetPython::Modern);
        assert!(out.contains("register: fb_check"), "{out}");
        assert!(
            out.contains("failed_when: \"fb_result.rc not in [0, 100]\""),
            "{out}"
        );
        assert!(out.contains("when: \"fb_check.rc != 0\""), "{out}");
        let old = export(step, TargetPython::Old);
        assert!(old.contains("if test -e /x >/dev/null 2>&1; then echo 'already done: the check passed'; exit 0; fi\n"), "{old}");
        assert!(
            old.contains("case $fb_rc in 0|100) ;; *) exit $fb_rc;; esac"),
            "{old}"
        );
    }

    /// `shows` judges the last program's output in both exports, by name (`fb_shows`) in the
    /// modern one; the text is data: `!unsafe` when plain, its variables filled by Ansible.
    #[test]
    fn shows_fails_the_last_task_unless_the_output_shows_the_text() {
        let step = "kind = \"command\"\ncommands = [[\"rc-update\", \"add\", \"net.br0\", \"default\"], [\"rc-update\", \"add\", \"net.br1\", \"default\"]]\nshows = [\"net.br0 | {atom} \", \"*'{{x}}'\"]\n";
        let out = export(step, TargetPython::Modern);
        // The last program stays a command: a module's own verdict has no output to judge.
        assert_eq!(out.matches("ansible.builtin.service:").count(), 1, "{out}");
        assert!(out.contains("failed_when: \"(fb_result.rc not in [0]) or not (fb_shows[0] in fb_result.stdout or fb_shows[0] in fb_result.stderr or fb_shows[1] in fb_result.stdout or fb_shows[1] in fb_result.stderr)\"\n"), "{out}");
        assert!(out.contains("fb_shows:\n              - \"net.br0 | {{ atom }} \"\n              - !unsafe \"*'{x}'\"\n"), "{out}");
        assert_eq!(out.matches("fb_shows:").count(), 1, "{out}");
        let old = export(step, TargetPython::Old);
        assert!(
            old.contains("rc-update add net.br0 default || exit $?\n"),
            "{old}"
        );
        assert!(old.contains("case $fb_out in *'net.br0 | '{{ atom | quote }}' '*|*'*'\\''{x}'\\'''*) ;; *) echo 'fieldbook: the output does not show what the step checks' >&2; exit 1;; esac"), "{old}");
    }

    #[test]
    fn long_steps_run_async() {
        let out = export(
            "kind = \"command\"\nlong = true\ncommands = [[\"revdep-rebuild\"]]\n",
            TargetPython::Modern,
        );
        assert!(out.contains("async: 86400\n      poll: 30\n"), "{out}");
    }
}
