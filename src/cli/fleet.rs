//! `fieldbook fleet HOST...`: every host's progress in one table, asked over the system's
//! OpenSSH (`fieldbook status --json` on each host, 8 at a time), or one host's handover report.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::{GlobalOpts, UsageError, exit};
use crate::core::catalog::Catalog;
use crate::core::fleet::{self, HostAnswer, ssh};

/// Options of `fieldbook fleet`.
#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    /// Hosts as ssh takes them (`name`, `user@name`, an alias from your ssh config).
    #[arg(value_name = "HOST")]
    pub(crate) hosts: Vec<String>,
    /// Read more hosts from FILE: one per line, `#` comments.
    #[arg(long = "hosts", value_name = "FILE")]
    pub(crate) hosts_file: Option<PathBuf>,
    /// Print the merged answers as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// An ssh option for every host, passed as `-o OPTION` (repeatable), e.g. `-o Port=2222`,
    /// `-o ControlMaster=auto`.
    #[arg(short = 'o', long = "ssh-option", value_name = "OPTION")]
    pub(crate) ssh_options: Vec<String>,
    /// Any other ssh argument, passed as given (repeatable), e.g. `--ssh-arg=-F --ssh-arg=cfg`.
    #[arg(long = "ssh-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub(crate) ssh_args: Vec<String>,
    /// Seconds to wait for each connection (ssh's ConnectTimeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub(crate) connect_timeout: u32,
    /// The fieldbook program on the hosts.
    #[arg(long, value_name = "PATH", default_value = "fieldbook")]
    pub(crate) remote_fieldbook: String,
    /// Instead of the table, print this runbook's handover report from the (single) host;
    /// the run's target is `--target`, or the host's own run of that runbook.
    #[arg(long, value_name = "RUNBOOK", conflicts_with_all = ["json", "app"])]
    pub(crate) report: Option<String>,
    /// Open the app on the fleet screen (Enter on a row shows that host's report; r asks again).
    #[arg(long, conflicts_with = "json")]
    pub(crate) app: bool,
}

impl FleetArgs {
    /// The ssh settings these options ask for (`FIELDBOOK_SSH` names another ssh binary).
    pub(crate) fn settings(&self) -> ssh::SshSettings {
        let mut s = ssh::SshSettings::from_env();
        s.connect_timeout = self.connect_timeout;
        s.remote_fieldbook = self.remote_fieldbook.clone();
        for o in &self.ssh_options {
            s.extra_args.push("-o".into());
            s.extra_args.push(o.clone());
        }
        s.extra_args.extend(self.ssh_args.iter().cloned());
        s.answer_timeout = Duration::from_secs(u64::from(self.connect_timeout) + ssh::ANSWER_SECS);
        s
    }

    /// Hosts from the command line and the hosts file, checked, without duplicates.
    pub(crate) fn all_hosts(&self) -> anyhow::Result<Vec<String>> {
        let mut hosts = Vec::new();
        for h in &self.hosts {
            fleet::check_host(h).map_err(|e| UsageError(e.to_string()))?;
            hosts.push(h.clone());
        }
        if let Some(file) = &self.hosts_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the hosts file {}", file.display()))?;
            let more = fleet::parse_hosts_file(&text)
                .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
            hosts.extend(more);
        }
        let mut seen = std::collections::BTreeSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        Ok(hosts)
    }
}

/// The runs of other hosts kept in this state directory (driven from here with `--host`), one
/// row per target, shown next to the hosts asked over ssh: a fleet driven with `--host` needs
/// no fieldbook on any box.
fn kept_here(global: &GlobalOpts, catalog: &Catalog) -> Vec<fleet::HostReport> {
    let Ok(value) = super::status::json_value(global, catalog) else {
        return Vec::new();
    };
    let Ok((runs, _)) = fleet::parse_status(&value.to_string()) else {
        return Vec::new();
    };
    let here = crate::core::host::hostname();
    let mut targets: Vec<String> = runs
        .iter()
        .filter(|r| r.target != here && !r.practice)
        .map(|r| r.target.clone())
        .collect();
    targets.sort();
    targets.dedup();
    targets
        .into_iter()
        .map(|t| {
            let mine: Vec<fleet::RunSummary> =
                runs.iter().filter(|r| r.target == t).cloned().collect();
            let status: Vec<serde_json::Value> = value["runs"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|r| r["target"].as_str() == Some(t.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            fleet::HostReport {
                host: format!("{t} (kept here)"),
                answer: HostAnswer::Ok {
                    runs: mine,
                    status: json!({ "runs": status }),
                },
            }
        })
        .collect()
}

pub(super) fn run(global: &GlobalOpts, catalog: Catalog, args: &FleetArgs) -> anyhow::Result<u8> {
    let hosts = args.all_hosts()?;
    let kept = if args.report.is_none() {
        kept_here(global, &catalog)
    } else {
        Vec::new()
    };
    if hosts.is_empty() && kept.is_empty() {
        return Err(UsageError(
            "no hosts: name them, or give --hosts FILE (no runs of other hosts are kept here \
             either)"
                .into(),
        )
        .into());
    }
    let settings = args.settings();
    if args.app {
        if hosts.is_empty() {
            return Err(UsageError("no hosts: name them, or give --hosts FILE".into()).into());
        }
        return crate::app::run_fleet(global.settings(), catalog, settings, hosts);
    }
    if let Some(runbook) = &args.report {
        let [host] = hosts.as_slice() else {
            return Err(UsageError(
                "--report shows one host's report: name exactly one host".into(),
            )
            .into());
        };
        return report(&settings, host, runbook, global.target.as_deref());
    }
    let mut reports = ssh::ask_all(&settings, &hosts);
    reports.extend(kept);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({ "hosts": reports }))?
        )?;
    } else {
        out.write_all(fleet::table(&reports).as_bytes())?;
    }
    let all_answered = reports
        .iter()
        .all(|r| matches!(r.answer, HostAnswer::Ok { .. }));
    Ok(if all_answered {
        exit::OK
    } else {
        exit::FAILURE
    })
}

fn report(
    settings: &ssh::SshSettings,
    host: &str,
    runbook: &str,
    target: Option<&str>,
) -> anyhow::Result<u8> {
    let target = match target {
        Some(t) => t.to_string(),
        None => {
            let answer = ssh::ask_all(settings, &[host.to_string()]).remove(0).answer;
            let HostAnswer::Ok { runs, .. } = answer else {
                crate::core::stdio::eprint_line(&format!(
                    "fieldbook: {host}: {}",
                    fleet::note(&fleet::HostReport {
                        host: host.into(),
                        answer
                    })
                    .unwrap_or_default()
                ));
                return Ok(exit::FAILURE);
            };
            match runs.iter().find(|r| r.runbook == runbook && !r.practice) {
                Some(r) => r.target.clone(),
                None => {
                    return Err(UsageError(format!("{host} has no run of '{runbook}'")).into());
                }
            }
        }
    };
    match ssh::report(settings, host, runbook, &target) {
        Ok(text) => {
            writeln!(std::io::stdout().lock(), "{text}")?;
            Ok(exit::OK)
        }
        Err(e) => {
            crate::core::stdio::eprint_line(&format!("fieldbook: {host}: {e}"));
            Ok(exit::FAILURE)
        }
    }
}
