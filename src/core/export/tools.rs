//! Tool-screen steps as Ansible tasks. A tool screen is where the technician decides (which
//! services to prune, which GCC profile); the playbook applies the runbook's recommendation
//! where it is fixed, and otherwise pauses saying what to decide by hand.

use crate::core::runbook::{Step, ToolKind};
use crate::core::yaml::Yaml;

use super::ansible::{Export, Task, pause, raw, step_name, task};

/// ClearOS services the runbook turns off on a Xen VM (no hardware, no desktop bus).
const SERVICES_OFF: &[&str] = &[
    "avahi-daemon",
    "avahi-dnsconfd",
    "haldaemon",
    "iscsi",
    "iscsid",
    "kudzu",
    "lvm2-monitor",
    "messagebus",
    "netfs",
];
/// Services to judge per machine (off on a VM without the hardware).
const SERVICES_MAYBE: &[&str] = &["suvad", "lm_sensors", "cpuspeed", "acpid"];
/// Services to turn on.
const SERVICES_ON: &[&str] = &["snmpd"];

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
        ToolKind::SnortRules => vec![pause(
            name,
            format!(
                "{}\n\n{}\n\nOn the host: comment out the rules with the SIDs this runbook lists, then \
                 `/etc/init.d/snort restart` (fieldbook's snort-rules screen does this with a diff and undo). \
                 Press Enter when done.",
                step.title,
                step.why.trim()
            ),
        )],
    }
}

/// `chkconfig --level 2345 NAME off|on` for the fixed recommendations (a service that is not
/// installed is not an error, as the tool only lists installed ones); the maybe-list is a pause.
fn services(ex: &Export, name: &str) -> Vec<Task> {
    let mut tasks = Vec::new();
    for (state, list) in [("off", SERVICES_OFF), ("on", SERVICES_ON)] {
        let sub = format!("{name} (turn {state}: {})", list.join(", "));
        if ex.old() {
            let line = format!(
                "for s in {}; do\n  if chkconfig --list \"$s\" >/dev/null 2>&1; then chkconfig --level 2345 \"$s\" {state} || exit $?; fi\ndone",
                list.join(" ")
            );
            tasks.push(raw(sub, Yaml::str(line)));
        } else {
            let mut t = task(
                sub,
                "ansible.builtin.command",
                Yaml::map([(
                    "argv",
                    Yaml::Seq(vec![
                        Yaml::str("chkconfig"),
                        Yaml::str("--level"),
                        Yaml::str("2345"),
                        Yaml::str("{{ item }}"),
                        Yaml::str(state),
                    ]),
                )]),
            );
            t.push(("loop".into(), Yaml::strs(list.iter().copied())));
            t.push(("register".into(), Yaml::str("fb_result")));
            t.push((
                "failed_when".into(),
                Yaml::str("fb_result.rc != 0 and 'error reading information on service' not in fb_result.stderr"),
            ));
            tasks.push(t);
        }
    }
    tasks.push(pause(
        format!("{name} (decide by hand)"),
        format!(
            "Decide per machine whether to turn off: {} (a Xen VM has no such hardware): \
             `chkconfig --level 2345 NAME off`. Never touch ldap or ldapsync: ClearOS manages accounts with them. \
             Press Enter when done.",
            SERVICES_MAYBE.join(", ")
        ),
    ));
    tasks
}
