//! Tool-screen steps as Ansible tasks. A tool screen is where the technician decides (which
//! services to prune, which GCC profile); the playbook applies the runbook's recommendation
//! where it is fixed, and otherwise pauses saying what to decide by hand.

use crate::core::runbook::{Step, ToolKind};
use crate::core::services::{Advice, ServicePolicy};
use crate::core::shell_quote;
use crate::core::snort;
use crate::core::yaml::Yaml;

use super::ansible::{Export, Task, pause, raw, step_name, task};

/// The tasks of a tool step.
pub(super) fn tool_step(ex: &Export, step: &Step, tool: ToolKind) -> Vec<Task> {
    let name = step_name(step);
    match tool {
        ToolKind::Services => services(ex, &name),
        ToolKind::Subnet => vec![task(
            name,
            "ansible.builtin.debug",
            Yaml::map([(
                "msg",
                Yaml::str(
                    "The subnet calculator changes nothing on the host; use `fieldbook subnet` to check addresses.",
                ),
            )]),
        )],
        ToolKind::Runlevels => {
            if ex.old() {
                let mut t = raw(name, Yaml::str("rc-update show"));
                t.retain(|(k, _)| k != "changed_when");
                t.push(("changed_when".into(), Yaml::Bool(false)));
                vec![t]
            } else {
                let mut t = task(
                    name,
                    "ansible.builtin.command",
                    Yaml::map([("argv", Yaml::strs(["rc-update", "show"]))]),
                );
                t.push(("changed_when".into(), Yaml::Bool(false)));
                vec![t]
            }
        }
        ToolKind::GccProfile => vec![pause(
            name,
            format!(
                "{}\n\n{}\n\nOn the host: run `gcc-config -l`, choose the newest profile with `gcc-config N`, \
                 then `env-update && source /etc/profile` in every open shell. Press Enter when done.",
                step.title,
                step.why.trim()
            ),
        )],
        ToolKind::SnortRules => snort_rules(&name),
    }
}

/// `chkconfig --level LEVELS NAME off|on` for the services the advice (the tool screen's data,
/// `assets/services-clearos.toml`) says to turn off or on; a service that is not installed is
/// not an error, as the screen lists only installed ones. The maybe-off list is a pause, and
/// locked services are never touched.
fn services(ex: &Export, name: &str) -> Vec<Task> {
    let policy = match ServicePolicy::clearos() {
        Ok(p) => p,
        Err(e) => {
            return vec![pause(
                name,
                format!("fieldbook's service advice did not load ({e}); prune services by hand."),
            )];
        }
    };
    let pick = |a: Advice| with_advice(&policy, a);
    // Conditional advice ("off unless you use iSCSI") is never applied blindly: it has its own
    // task behind a switch that defaults to off.
    let conditional: Vec<&str> = policy
        .services
        .iter()
        .filter(|s| s.advice == Advice::Off && s.unless.is_some())
        .map(|s| s.name.as_str())
        .collect();
    let sure_off: Vec<&str> = pick(Advice::Off)
        .into_iter()
        .filter(|n| !conditional.contains(n))
        .collect();
    let mut tasks = Vec::new();
    for (state, list, switch) in [
        ("off", sure_off, None),
        (
            "off",
            conditional,
            Some(super::conditions::CONDITIONAL_SERVICES),
        ),
        ("on", pick(Advice::On), None),
    ] {
        if list.is_empty() {
            continue;
        }
        let sub = match switch {
            None => format!("{name} (turn {state}: {})", list.join(", ")),
            Some(_) => format!("{name} (conditional, turn {state}: {})", list.join(", ")),
        };
        let mut t = chkconfig_task(ex, sub, &policy.levels, &list, state);
        t.extend(switch.map(|v| ("when".to_string(), Yaml::str(format!("{v} | bool")))));
        tasks.push(t);
    }
    tasks.push(decide_by_hand(&policy, name));
    tasks
}

/// The names of the policy's services with advice `a`, in its order.
fn with_advice(policy: &ServicePolicy, a: Advice) -> Vec<&str> {
    policy
        .services
        .iter()
        .filter(|s| s.advice == a)
        .map(|s| s.name.as_str())
        .collect()
}

/// One task that turns `list` to `state` at the policy's levels: a `raw` loop for old targets
/// (a service the box lacks is passed over), else `command` with `loop` (its "error reading
/// information" is not a failure).
fn chkconfig_task(ex: &Export, name: String, levels: &str, list: &[&str], state: &str) -> Task {
    if ex.old() {
        let names: Vec<String> = list.iter().map(|s| shell_quote::quote(s)).collect();
        let line = format!(
            "for s in {}; do\n  if chkconfig --list \"$s\" >/dev/null 2>&1; then chkconfig --level {} \"$s\" {state} || exit $?; fi\ndone",
            names.join(" "),
            shell_quote::quote(levels)
        );
        return raw(name, Yaml::str(line));
    }
    let mut t = task(
        name,
        "ansible.builtin.command",
        Yaml::map([(
            "argv",
            Yaml::Seq(vec![
                Yaml::str("chkconfig"),
                Yaml::str("--level"),
                Yaml::str(levels),
                Yaml::str("{{ item }}"),
                Yaml::str(state),
            ]),
        )]),
    );
    t.push(("loop".into(), Yaml::strs(list.iter().copied())));
    t.push(("register".into(), Yaml::str("fb_result")));
    t.push((
        "failed_when".into(),
        Yaml::str(
            "fb_result.rc != 0 and 'error reading information on service' not in fb_result.stderr",
        ),
    ));
    t
}

/// The pause that lists the services to decide per machine and those never to touch.
fn decide_by_hand(policy: &ServicePolicy, name: &str) -> Task {
    let pick = |a: Advice| with_advice(policy, a);
    let maybe: Vec<String> = policy
        .services
        .iter()
        .filter(|s| s.advice == Advice::MaybeOff)
        .map(|s| format!("  {}: {}", s.name, s.reason))
        .collect();
    let mut locked: Vec<String> = pick(Advice::Locked).iter().map(|s| s.to_string()).collect();
    locked.extend(
        policy
            .lock_names_containing
            .iter()
            .map(|p| format!("anything containing '{p}'")),
    );
    pause(
        format!("{name} (decide by hand)"),
        format!(
            "Decide per machine whether to turn these off (`chkconfig --level {} NAME off`):\n{}\n\n\
             Never touch: {}. {}\nPress Enter when done.",
            policy.levels,
            maybe.join("\n"),
            locked.join(", "),
            policy.lock_reason
        ),
    )
}

/// Comments out every active rule line carrying one of the article's SIDs (the snort tool's
/// list, `assets/snort-sids.toml`) in ClearOS's rules directories, then restarts snort.
fn snort_rules(name: &str) -> Vec<Task> {
    let sids = match snort::article_sids() {
        Ok(s) => s,
        Err(e) => {
            return vec![pause(
                name,
                format!("fieldbook's SID list did not load ({e}); disable the rules by hand."),
            )];
        }
    };
    // SIDs the article is unsure of get their own pass behind a switch that defaults to off.
    let mut out = Vec::new();
    for (maybe, label) in [(false, ""), (true, " (SIDs the article is unsure of)")] {
        let alt: Vec<String> = sids
            .iter()
            .filter(|s| s.maybe == maybe)
            .map(|s| s.sid.to_string())
            .collect();
        if alt.is_empty() {
            continue;
        }
        let sub = format!("{name}{label}");
        let guard = maybe.then(|| {
            (
                "when".to_string(),
                Yaml::str(format!("{} | bool", super::conditions::MAYBE_SIDS)),
            )
        });
        let tasks = snort_pass(&sub, &alt.join("|"));
        match guard {
            None => out.extend(tasks),
            Some(g) => out.push(guarded_block(&sub, tasks, g)),
        }
    }
    out
}

/// Several tasks as one block task carrying `guard` (a `when:`).
fn guarded_block(name: &str, tasks: Vec<Task>, guard: (String, Yaml)) -> Task {
    vec![
        ("name".into(), super::ansible::literal(name)),
        (
            "block".into(),
            Yaml::Seq(tasks.into_iter().map(Yaml::Map).collect()),
        ),
        guard,
    ]
}

/// One pass commenting out the rules whose SID is in `alt` (`1091|1233|...`), old and modern
/// targets alike: one sh + awk program, because a rule continued with trailing backslashes is
/// commented as a whole (every line of it, as the engine does), which a line regex cannot do.
fn snort_pass(name: &str, alt: &str) -> Vec<Task> {
    let dirs: Vec<String> = snort::RULE_DIRS
        .iter()
        .map(|d| shell_quote::quote(d))
        .collect();
    let program = format!(
        "function commented(l) {{ sub(/^[ \\t]*/, \"\", l); return substr(l, 1, 1) == \"#\" }}\n\
         function listed(l) {{ return l ~ /(^|[^A-Za-z0-9_])sid[ \\t]*:[ \\t]*({alt})[ \\t]*;/ }}\n\
         {{ a[++n] = $0 }}\n\
         END {{\n  i = 1\n  while (i <= n) {{\n    if (commented(a[i])) {{ print a[i]; i++; continue }}\n    \
         s = i\n    while (i < n && a[i] ~ /\\\\[ \\t\\r]*$/ && !commented(a[i + 1])) i++\n    \
         h = 0; for (k = s; k <= i; k++) if (listed(a[k])) h = 1\n    \
         for (k = s; k <= i; k++) print (h ? \"#\" a[k] : a[k])\n    if (h) c = 1\n    i++\n  }}\n  \
         exit c ? 0 : 10\n}}\n"
    );
    let line = format!(
        "found=\nfor d in {}; do\n  [ -d \"$d\" ] || continue\n  for f in \"$d\"/*; do\n    [ -f \"$f\" ] || continue; found=1\n    \
         awk {} \"$f\" > \"$f.fieldbook-new\"; rc=$?\n    \
         if [ $rc = 0 ]; then cat \"$f.fieldbook-new\" > \"$f\"; echo \"disabled rules in $f\"; changed=1\n    \
         elif [ $rc != 10 ]; then rm -f \"$f.fieldbook-new\"; exit $rc; fi\n    rm -f \"$f.fieldbook-new\"\n  done\ndone\n\
         [ -n \"$found\" ] || {{ echo 'fieldbook: no snort rules directory found' >&2; exit 1; }}\n\
         if [ -n \"$changed\" ]; then {}; else echo 'already applied'; fi",
        dirs.join(" "),
        shell_quote::quote(&program),
        shell_quote::join(&snort::RESTART)
    );
    vec![raw(name, Yaml::str(line))]
}

#[cfg(test)]
mod tests {
    use super::super::ansible::{TargetPython, playbook};
    use crate::core::runbook::load_str;

    fn export(tool: &str, python: TargetPython) -> String {
        let src = format!(
            "id = \"t\"\ntitle = \"T\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"st\"\ntitle = \"Tool\"\nwhy = \"w\"\nkind = \"tool\"\ntool = \"{tool}\"\n"
        );
        playbook(&load_str("t.toml", &src).unwrap(), python)
    }

    #[test]
    fn services_follow_the_tool_advice_and_never_touch_ldap() {
        let out = export("services", TargetPython::Modern);
        assert!(
            out.contains("(turn off: avahi-daemon, avahi-dnsconfd"),
            "{out}"
        );
        assert!(out.contains("(turn on: snmpd)"), "{out}");
        // Conditional advice is behind a switch that defaults to off, never applied blindly.
        assert!(
            out.contains("(conditional, turn off: iscsi, iscsid, lvm2-monitor, netfs)"),
            "{out}"
        );
        assert!(
            out.contains("when: \"prune_conditional_services | bool\""),
            "{out}"
        );
        assert!(out.contains("prune_conditional_services: false"), "{out}");
        let sure = out
            .lines()
            .find(|l| l.contains("(turn off: avahi"))
            .unwrap();
        assert!(!sure.contains("iscsi") && !sure.contains("netfs"), "{sure}");
        assert!(out.contains("- \"2345\"\n"), "{out}");
        let touched: Vec<&str> = out.lines().filter(|l| l.contains("(turn ")).collect();
        assert!(touched.iter().all(|l| !l.contains("ldap")), "{touched:?}");
        assert!(out.contains("Never touch:"), "{out}");
        let old = export("services", TargetPython::Old);
        assert!(
            old.contains("chkconfig --level 2345 \"$s\" off || exit $?"),
            "{old}"
        );
    }

    /// The snort program (old and modern targets alike), run by /bin/sh on a copy of a rules
    /// directory: the listed SIDs are commented out once, a rule continued with trailing
    /// backslashes as a whole (every line, as the engine does), other rules and commented ones
    /// stay, and a second run is a no-op.
    #[test]
    fn snort_program_comments_listed_rules_whole_once() {
        let rule = "alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS \\\n    (msg:\"WEB-MISC Transfer-Encoding: chunked\"; flow:to_server,established; \\\n    content:\"chunked\"; nocase; classtype:web-application-attack; sid:1807; rev:10;)\n";
        let before = format!(
            "alert tcp any any -> any 80 (msg:\"x\"; sid:1091; rev:3;)\nalert tcp any any -> any 80 (msg:\"y\"; sid:10910; rev:1;)\n# alert tcp (sid: 1233 ;)\n{rule}alert tcp any any -> any 81 \\\n    (msg:\"z\"; sid:10911; rev:1;)\n"
        );
        // The engine's own result on the same text: what the snort screen writes.
        let mut want = before.clone();
        let sids: Vec<u64> = super::snort::article_sids()
            .unwrap()
            .iter()
            .filter(|s| !s.maybe)
            .map(|s| s.sid)
            .collect();
        for (_, hit) in super::snort::scan_text("/r/web.rules", &before, &sids) {
            let report = super::snort::SidReport {
                entry: super::snort::BadSid {
                    sid: 0,
                    reason: String::new(),
                    source: super::snort::SidSource::Article,
                    maybe: false,
                },
                state: super::snort::RuleState::Enabled,
                hits: vec![hit],
            };
            for e in super::snort::disable_edits(&report) {
                want = crate::core::edit::edit_text(&want, &e.action, &e.comment).unwrap();
            }
        }
        assert!(want.lines().nth(3).unwrap().starts_with('#'), "{want}");
        assert!(want.lines().nth(5).unwrap().starts_with('#'), "{want}");
        assert!(!want.lines().nth(6).unwrap().starts_with('#'), "{want}");
        for python in [TargetPython::Old, TargetPython::Modern] {
            let out = export("snort-rules", python);
            let start = out.find("_raw_params: ").unwrap();
            let first = out[start..].lines().nth(1).unwrap();
            let indent = " ".repeat(first.len() - first.trim_start().len());
            let yaml_body: String = out[start..]
                .lines()
                .skip(1)
                .take_while(|l| l.starts_with(&indent))
                .map(|l| format!("{}\n", &l[indent.len()..]))
                .collect();
            // SID 966 ("may be a bad one for me only") has its own pass behind a switch.
            assert!(out.contains("when: \"disable_maybe_sids | bool\""), "{out}");
            assert!(out.contains("disable_maybe_sids: false"), "{out}");
            let dir = tempfile::tempdir().unwrap();
            let rules = dir.path().join("rules");
            std::fs::create_dir(&rules).unwrap();
            let file = rules.join("web.rules");
            std::fs::write(&file, &before).unwrap();
            let script = yaml_body
                .replace(super::snort::RULE_DIRS[0], &rules.to_string_lossy())
                .replace("/etc/init.d/snort restart", "echo RESTARTED");
            let run = || {
                let o = std::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(&script)
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                String::from_utf8(o.stdout).unwrap()
            };
            assert!(run().contains("RESTARTED"), "{python:?}");
            assert_eq!(std::fs::read_to_string(&file).unwrap(), want, "{python:?}");
            let again = run();
            assert!(again.contains("already applied"), "{python:?}: {again}");
            assert!(!again.contains("RESTARTED"), "{python:?}: {again}");
        }
    }
}
