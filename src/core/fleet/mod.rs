//! Many machines at once: what each host's `fieldbook status --json` says, merged into one
//! host × runbook view for the person in charge of a migration of nine servers.
//!
//! The engine is OpenSSH ([`ssh`]); this module holds the pure parts — the host list, how a
//! host's answer is understood, and the table — so they are tested without any network.

pub mod ssh;

use crate::core::terminal_text::terminal_safe_line;
use crate::core::wrap::wrap;
use serde::Serialize;
use serde_json::Value;

/// How many hosts are asked at the same time.
pub const PARALLEL: usize = 8;

/// What one host said, or why it said nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum HostAnswer {
    /// fieldbook answered; its runs (possibly none).
    Ok {
        /// One summary per run on that host.
        runs: Vec<RunSummary>,
        /// The host's `status --json` as it came, for `--json` users who want every field.
        status: Value,
    },
    /// ssh could not reach or log in to the host.
    Unreachable {
        /// ssh's own words.
        message: String,
    },
    /// The host was reached but has no fieldbook (the shell could not find it).
    NoFieldbook {
        /// The shell's words.
        message: String,
    },
    /// fieldbook ran but failed or printed something that is not its status JSON.
    Failed {
        /// Exit status of the remote command, when it exited.
        exit: Option<i32>,
        /// What went wrong.
        message: String,
    },
}

/// One run on one host, reduced to what the fleet table shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Runbook id.
    pub runbook: String,
    /// Target of the run (a host may prepare several VM images).
    pub target: String,
    /// Done steps (as `fieldbook status` counts them).
    pub done: u64,
    /// Skipped steps.
    pub skipped: u64,
    /// Steps in the runbook.
    pub total: u64,
    /// Ids of failed steps.
    pub failed: Vec<String>,
    /// Ids of interrupted steps.
    pub interrupted: Vec<String>,
    /// Last activity, RFC 3339.
    pub last_activity: String,
    /// Who worked on it.
    pub who: Vec<String>,
    /// A practice run (nothing was executed).
    pub practice: bool,
}

/// One host and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostReport {
    /// The host as given on the command line or in the hosts file.
    pub host: String,
    /// What it said.
    #[serde(flatten)]
    pub answer: HostAnswer,
}

/// Why a host name was refused before anything ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Empty names are a typo in a hosts file.
    #[error("an empty host name")]
    Empty,
    /// A name starting with `-` would be read by ssh as an option.
    #[error("host '{0}' starts with '-', which ssh would read as an option")]
    LooksLikeOption(String),
    /// Whitespace or control characters never belong in a host name.
    #[error("host '{0}' contains whitespace or control characters")]
    BadCharacters(String),
}

/// Checks one host as given (`name`, `user@name`, an ssh config alias, `ssh://user@name:port`).
pub fn check_host(host: &str) -> Result<(), HostError> {
    if host.is_empty() {
        Err(HostError::Empty)
    } else if host.starts_with('-') {
        Err(HostError::LooksLikeOption(host.to_string()))
    } else if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(HostError::BadCharacters(terminal_safe_line(host)))
    } else {
        Ok(())
    }
}

/// Reads a hosts file: one host per line; blank lines and `#` comments are ignored. Errors name
/// the line.
pub fn parse_hosts_file(text: &str) -> Result<Vec<String>, String> {
    let mut hosts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        check_host(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        hosts.push(line.to_string());
    }
    Ok(hosts)
}

/// Understands the answer of `ssh HOST fieldbook status --json`: ssh itself exits 255 when it
/// cannot connect or log in, a POSIX shell exits 127 for a command it cannot find (126 when it
/// cannot run it), anything else is fieldbook's own exit status and output.
pub fn classify(exit: Option<i32>, stdout: &str, stderr: &str) -> HostAnswer {
    let said = last_words(stderr);
    match exit {
        Some(255) => HostAnswer::Unreachable {
            message: if said.is_empty() {
                "ssh failed (exit 255)".into()
            } else {
                said
            },
        },
        Some(126 | 127) => HostAnswer::NoFieldbook {
            message: if said.is_empty() {
                "fieldbook not found on the host".into()
            } else {
                said
            },
        },
        _ => match parse_status(stdout) {
            Ok((runs, status)) => HostAnswer::Ok { runs, status },
            Err(why) => HostAnswer::Failed {
                exit,
                message: if said.is_empty() {
                    why
                } else {
                    format!("{said} ({why})")
                },
            },
        },
    }
}

/// The last non-empty line of a tool's stderr, made safe to show.
fn last_words(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(terminal_safe_line)
        .unwrap_or_default()
}

/// Reads `fieldbook status --json` output. Unknown fields are ignored and missing ones are
/// empty, so a newer or older fieldbook on a host still shows.
pub fn parse_status(stdout: &str) -> Result<(Vec<RunSummary>, Value), String> {
    let value: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("not fieldbook status JSON: {e}"))?;
    let runs = value
        .get("runs")
        .and_then(Value::as_array)
        .ok_or("not fieldbook status JSON: no \"runs\" list")?;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(terminal_safe_line)
            .unwrap_or_default()
    };
    let ids_with = |run: &Value, status: &str| -> Vec<String> {
        run.get("steps")
            .and_then(Value::as_array)
            .map(|steps| {
                steps
                    .iter()
                    .filter(|s| s.get("status").and_then(Value::as_str) == Some(status))
                    .map(|s| text(s, "id"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let summaries = runs
        .iter()
        .map(|run| {
            let progress = run.get("progress").cloned().unwrap_or(Value::Null);
            let count = |k: &str| progress.get(k).and_then(Value::as_u64).unwrap_or(0);
            let who = run
                .get("people")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .map(terminal_safe_line)
                        .collect()
                })
                .unwrap_or_default();
            RunSummary {
                runbook: text(run, "runbook"),
                target: text(run, "target"),
                done: count("done"),
                skipped: count("skipped"),
                total: count("total"),
                failed: ids_with(run, "failed"),
                interrupted: ids_with(run, "interrupted"),
                last_activity: text(run, "last_activity"),
                who,
                practice: run
                    .get("practice")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }
        })
        .collect();
    Ok((summaries, value))
}

/// The width the fleet table keeps to: a serial console.
const TABLE_WIDTH: usize = 80;

/// What a host that gave no runs said, as one line starting with its name (`None` for a host
/// that answered with runs).
pub fn note(r: &HostReport) -> Option<String> {
    let host = terminal_safe_line(&r.host);
    match &r.answer {
        HostAnswer::Ok { runs, .. } if runs.is_empty() => {
            Some(format!("{host}  no fieldbook runs yet"))
        }
        HostAnswer::Ok { .. } => None,
        HostAnswer::Unreachable { message } => Some(format!("{host}  UNREACHABLE: {message}")),
        HostAnswer::NoFieldbook { message } => Some(format!("{host}  NO FIELDBOOK: {message}")),
        HostAnswer::Failed { exit, message } => {
            let code = exit.map_or_else(String::new, |c| format!(" (exit {c})"));
            Some(format!("{host}  FAILED{code}: {message}"))
        }
    }
}

/// Lines of at most 80 columns: `text` wrapped, its continuation lines indented by two.
fn wrapped(out: &mut String, indent: &str, text: &str) {
    if indent.len() + text.chars().count() <= TABLE_WIDTH {
        out.push_str(&format!("{indent}{text}\n"));
        return;
    }
    for (i, line) in wrap(text, TABLE_WIDTH - indent.len() - 2)
        .iter()
        .enumerate()
    {
        let pad = if i == 0 { "" } else { "  " };
        out.push_str(&format!("{indent}{pad}{line}\n"));
    }
}

/// The fleet as a plain-text table, one line per host × run, never wider than 80 columns and
/// never cut: who worked on a run goes on the line below it, and when a host name, runbook or
/// list of steps is too long for one row, every run takes a name line and a counts line.
pub fn table(reports: &[HostReport]) -> String {
    const HEADER: [&str; 6] = [
        "HOST",
        "RUNBOOK",
        "DONE",
        "FAILED",
        "INTERRUPTED",
        "LAST ACTIVITY",
    ];
    struct Row {
        cells: [String; 6],
        who: Vec<String>,
    }
    // Rows and notes in the order the hosts were asked.
    let mut items: Vec<Result<Row, String>> = Vec::new();
    for r in reports {
        if let Some(n) = note(r) {
            items.push(Err(n));
            continue;
        }
        let HostAnswer::Ok { runs, .. } = &r.answer else {
            continue;
        };
        for run in runs {
            let mut runbook = run.runbook.clone();
            if run.target != r.host && !run.target.is_empty() {
                runbook = format!("{runbook}@{}", run.target);
            }
            if run.practice {
                runbook.push_str(" (practice)");
            }
            items.push(Ok(Row {
                cells: [
                    terminal_safe_line(&r.host),
                    runbook,
                    format!("{}/{}", run.done, run.total),
                    list(&run.failed),
                    list(&run.interrupted),
                    run.last_activity.clone(),
                ],
                who: run.who.clone(),
            }));
        }
    }
    let mut widths = HEADER.map(str::len);
    for row in items.iter().filter_map(|i| i.as_ref().ok()) {
        for (w, cell) in widths.iter_mut().zip(&row.cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let one_row = widths.iter().sum::<usize>() + 2 * (widths.len() - 1) <= TABLE_WIDTH;
    let line = |cells: &[String]| {
        let mut line = String::new();
        for (j, cell) in cells.iter().enumerate() {
            if j + 1 == cells.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[j]));
            }
        }
        line.trim_end().to_string() + "\n"
    };
    let mut out = if one_row {
        line(&HEADER.map(String::from))
    } else {
        "HOST  RUNBOOK\n  DONE  FAILED  INTERRUPTED  LAST ACTIVITY\n".to_string()
    };
    for item in &items {
        match item {
            Err(note) => wrapped(&mut out, "", note),
            Ok(row) if one_row => out.push_str(&line(&row.cells)),
            Ok(row) => {
                let [host, runbook, done, failed, interrupted, last] = &row.cells;
                wrapped(&mut out, "", &format!("{host}  {runbook}"));
                wrapped(
                    &mut out,
                    "  ",
                    &format!("{done}  failed: {failed}  interrupted: {interrupted}  {last}"),
                );
            }
        }
        if let Ok(row) = item
            && !row.who.is_empty()
        {
            wrapped(&mut out, "  ", &format!("by {}", row.who.join(", ")));
        }
    }
    out
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "-".into()
    } else {
        ids.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = r#"{
      "state_dir": "/var/lib/fieldbook",
      "runs": [{
        "runbook": "xen4-migration", "title": "Xen", "target": "alpha", "host": "alpha",
        "practice": false, "last_activity": "2026-11-26T10:00:00Z", "people": ["ann", "bob"],
        "progress": {"done": 3, "skipped": 1, "failed": 1, "interrupted": 1, "total": 35},
        "steps": [{"id": "sync", "status": "failed"}, {"id": "world", "status": "interrupted"},
                  {"id": "keywords", "status": "done"}],
        "future_field": 1
      }],
      "unreadable": []
    }"#;

    #[test]
    fn status_json_becomes_a_summary() {
        let (runs, _) = parse_status(STATUS).unwrap();
        assert_eq!(
            runs,
            vec![RunSummary {
                runbook: "xen4-migration".into(),
                target: "alpha".into(),
                done: 3,
                skipped: 1,
                total: 35,
                failed: vec!["sync".into()],
                interrupted: vec!["world".into()],
                last_activity: "2026-11-26T10:00:00Z".into(),
                who: vec!["ann".into(), "bob".into()],
                practice: false,
            }]
        );
    }

    #[test]
    fn exit_codes_say_unreachable_or_missing() {
        assert!(matches!(
            classify(Some(255), "", "ssh: connect to host 127.0.0.1 port 9: Connection refused\n"),
            HostAnswer::Unreachable { message } if message.contains("Connection refused")
        ));
        assert!(matches!(
            classify(Some(127), "", "bash: line 1: fieldbook: command not found\n"),
            HostAnswer::NoFieldbook { message } if message.contains("command not found")
        ));
        assert!(matches!(
            classify(Some(0), "garbage", ""),
            HostAnswer::Failed { .. }
        ));
        assert!(matches!(
            classify(Some(1), STATUS, ""),
            HostAnswer::Ok { .. }
        ));
    }

    #[test]
    fn escape_sequences_from_a_host_never_reach_the_terminal() {
        let a = classify(Some(255), "", "evil \x1b]0;pwned\x07 text");
        let HostAnswer::Unreachable { message } = a else {
            panic!()
        };
        assert_eq!(message, "evil ?]0;pwned? text");
    }

    #[test]
    fn hosts_file_and_hostile_names() {
        assert_eq!(
            parse_hosts_file("# routers\nalpha\n\n  root@beta  # the old one\nssh://gamma:2222\n")
                .unwrap(),
            vec!["alpha", "root@beta", "ssh://gamma:2222"]
        );
        assert_eq!(
            parse_hosts_file("alpha\n-oProxyCommand=reboot\n").unwrap_err(),
            "line 2: host '-oProxyCommand=reboot' starts with '-', which ssh would read as an option"
        );
        assert!(check_host("a b").is_err());
    }

    #[test]
    fn table_shows_every_host_plainly() {
        let (runs, status) = parse_status(STATUS).unwrap();
        let reports = vec![
            HostReport {
                host: "alpha".into(),
                answer: HostAnswer::Ok { runs, status },
            },
            HostReport {
                host: "beta".into(),
                answer: HostAnswer::Ok {
                    runs: vec![],
                    status: Value::Null,
                },
            },
            HostReport {
                host: "gamma".into(),
                answer: HostAnswer::Unreachable {
                    message: "Connection refused".into(),
                },
            },
            HostReport {
                host: "delta".into(),
                answer: HostAnswer::NoFieldbook {
                    message: "fieldbook: not found".into(),
                },
            },
        ];
        assert_eq!(
            table(&reports),
            "HOST   RUNBOOK         DONE  FAILED  INTERRUPTED  LAST ACTIVITY\n\
             alpha  xen4-migration  3/35  sync    world        2026-11-26T10:00:00Z\n  \
             by ann, bob\n\
             beta  no fieldbook runs yet\n\
             gamma  UNREACHABLE: Connection refused\n\
             delta  NO FIELDBOOK: fieldbook: not found\n"
        );
    }

    #[test]
    fn table_fits_80_columns_with_long_names_and_messages_without_cutting_them() {
        let (mut runs, status) = parse_status(STATUS).unwrap();
        runs[0].failed = (1..=12).map(|i| format!("step-number-{i}")).collect();
        let host = "a-rather-long-host-name.branch-office.example.com";
        let message = format!(
            "ssh: connect to host {} port 22: {}",
            "d".repeat(60),
            "No route to host"
        );
        let reports = vec![
            HostReport {
                host: host.into(),
                answer: HostAnswer::Ok { runs, status },
            },
            HostReport {
                host: "down".into(),
                answer: HostAnswer::Unreachable {
                    message: message.clone(),
                },
            },
        ];
        let out = table(&reports);
        for line in out.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} columns: {line:?}",
                line.chars().count()
            );
        }
        let joined: String = out.split_whitespace().collect();
        let step12 = "step-number-12".to_string();
        let whole: String = message.split_whitespace().collect();
        for want in [
            host,
            "xen4-migration",
            "3/35",
            &step12,
            "world",
            "2026-11-26T10:00:00Z",
            "ann,bob",
            &whole,
        ] {
            assert!(joined.contains(want), "{want} cut from\n{out}");
        }
    }
}
