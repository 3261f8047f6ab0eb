//! `fieldbook status [ID] [--json]`: where every run stands, printable over a serial console
//! without the app, and scriptable with `--json`.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::cli::GlobalOpts;
use crate::cli::exit;
use crate::cli::runs::{self, FoundRun, terminal_safe};
use crate::core::catalog::Catalog;
use crate::core::report::{self, Report};
use crate::core::stdio::print;
use crate::core::store;
use crate::ui::text::wrap;

/// Prints the runs (all, or those of `id`; `--target` filters). With an id, every step is
/// listed with its marker. Exit 1 if some state file could not be read (it is named on stderr).
pub(crate) fn run(
    global: &GlobalOpts,
    catalog: &Catalog,
    id: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let dir = runs::state_dir(global)?;
    let (mut found, unreadable) = runs::find_runs(&dir, id, global.target.as_deref())?;
    let mut unrecorded = Vec::new();
    for f in &mut found {
        // A long step that finished while nobody watched reads as it ended, not "running".
        let runbook = runs::runbook_of(catalog, &f.run);
        store::show_finished(&mut f.run, &dir, runbook);
        // An edit a kill left made but unrecorded is shown, and said to be so.
        unrecorded.push(store::show_unrecorded_edits(&mut f.run, &dir));
    }
    let reports: Vec<(&FoundRun, Report)> = found
        .iter()
        .map(|f| (f, report::build(&f.run, runs::runbook_of(catalog, &f.run))))
        .collect();
    let notices: Vec<Option<String>> = unrecorded.iter().map(|&n| unrecorded_notice(n)).collect();
    let mut out = String::new();
    if json {
        let items: Vec<Value> = reports
            .iter()
            .zip(&unrecorded)
            .map(|((f, r), n)| {
                let mut v = run_json(f, r);
                v["unrecorded_edits"] = json!(n);
                v
            })
            .collect();
        let value = json!({
            "state_dir": dir.base().display().to_string(),
            "runs": items,
            "unreadable": unreadable,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        for e in &unreadable {
            crate::core::stdio::eprint_line(&format!(
                "fieldbook: unreadable state file: {}",
                terminal_safe(e)
            ));
        }
        if reports.is_empty() {
            let what = id.map_or_else(|| "runs".to_string(), |i| format!("runs of '{i}'"));
            writeln!(out, "No {what} in {}.", dir.base().display())?;
        } else if id.is_some() {
            for ((_, r), notice) in reports.iter().zip(&notices) {
                detail(&mut out, r, notice.as_deref());
            }
        } else {
            table(&mut out, &reports, &notices);
        }
    }
    print(&terminal_safe(&out))?;
    Ok(if unreadable.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

/// Every run in the state directory as `status --json` prints it (for `fleet`, which shows the
/// runs of other hosts kept here, driven with `--host`).
pub(super) fn json_value(global: &GlobalOpts, catalog: &Catalog) -> anyhow::Result<Value> {
    let dir = runs::state_dir(global)?;
    let (mut found, unreadable) = runs::find_runs(&dir, None, None)?;
    for f in &mut found {
        let runbook = runs::runbook_of(catalog, &f.run);
        store::show_finished(&mut f.run, &dir, runbook);
        store::show_unrecorded_edits(&mut f.run, &dir);
    }
    let items: Vec<Value> = found
        .iter()
        .map(|f| run_json(f, &report::build(&f.run, runs::runbook_of(catalog, &f.run))))
        .collect();
    Ok(json!({
        "state_dir": dir.base().display().to_string(),
        "runs": items,
        "unreadable": unreadable,
    }))
}

fn run_json(f: &FoundRun, r: &Report) -> Value {
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| json!({"id": s.id, "status": s.status, "removed": s.removed}))
        .collect();
    json!({
        "runbook": r.runbook,
        "title": r.title,
        "target": r.target,
        "host": r.host,
        "practice": r.practice,
        "file": f.file.display().to_string(),
        "first_activity": r.first_activity,
        "last_activity": r.last_activity,
        "people": r.people,
        "progress": r.progress,
        "next": r.next,
        "steps": steps,
    })
}

/// The run table, never wider than 80 columns and never cut: the counts are packed under
/// short headers and who worked on a run goes on its own (wrapped) line below it. When a
/// runbook id or target is too long for one row, every run takes two lines instead: its name
/// (wrapped) above, its counts below, so nothing is cut on a serial console.
fn table(out: &mut String, reports: &[(&FoundRun, Report)], notices: &[Option<String>]) {
    let width = |f: fn(&Report) -> &str| {
        reports
            .iter()
            .map(|(_, r)| f(r).chars().count())
            .max()
            .unwrap_or(0)
    };
    let w_id = width(|r| &r.runbook).max(7);
    let w_t = width(|r| &r.target).max(6);
    let counts = |r: &Report| {
        let p = &r.progress;
        format!(
            "{:>5} {:>3} {:>4} {:>4} {:>3}  {}",
            format!("{}/{}", p.done, p.total),
            p.running,
            p.failed,
            p.skipped,
            p.interrupted,
            r.last_activity,
        )
    };
    let header = format!(
        "{:>5} {:>3} {:>4} {:>4} {:>3}  LAST ACTIVITY",
        "DONE", "RUN", "FAIL", "SKIP", "INT"
    );
    let one_row = w_id + 2 + w_t + 2 + header.len() <= TABLE_WIDTH;
    if one_row {
        let _ = writeln!(out, "{:<w_id$}  {:<w_t$}  {header}", "RUNBOOK", "TARGET");
    } else {
        let _ = writeln!(out, "RUNBOOK on TARGET\n  {header}");
    }
    for (i, (_, r)) in reports.iter().enumerate() {
        if one_row {
            let _ = writeln!(
                out,
                "{:<w_id$}  {:<w_t$}  {}",
                r.runbook,
                r.target,
                counts(r)
            );
        } else {
            for line in wrap(&format!("{} on {}", r.runbook, r.target), TABLE_WIDTH) {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "  {}", counts(r));
        }
        if !r.people.is_empty() {
            for line in wrap(&format!("by {}", r.people.join(", ")), TABLE_WIDTH - 2) {
                let _ = writeln!(out, "  {line}");
            }
        }
        if let Some(Some(notice)) = notices.get(i) {
            for line in wrap(notice, TABLE_WIDTH - 2) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
}

/// What `status` says of a run with `n` edits made but not recorded (a kill between the edit
/// and its record), if any.
fn unrecorded_notice(n: usize) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{n} edit(s) made but not recorded (fieldbook was stopped mid-edit): shown here and \
             in the report, recorded when the run is next opened"
        )
    })
}

/// The width `status` keeps to: a serial console.
const TABLE_WIDTH: usize = 80;

fn detail(out: &mut String, r: &Report, notice: Option<&str>) {
    let practice = if r.practice { " (practice)" } else { "" };
    let _ = writeln!(
        out,
        "{} on {}{practice}: {}",
        r.runbook,
        r.target,
        report::progress_line(&r.progress)
    );
    if r.untouched() {
        let _ = writeln!(
            out,
            "  opened {}; nobody has worked on a step yet",
            r.last_activity
        );
    } else if r.people.is_empty() {
        let _ = writeln!(out, "  last activity {}", r.last_activity);
    } else {
        let _ = writeln!(
            out,
            "  last activity {} by {}",
            r.last_activity,
            r.people.join(", ")
        );
    }
    if let Some(next) = &r.next {
        let _ = writeln!(out, "  next: {next}");
    }
    if let Some(notice) = notice {
        for line in wrap(notice, TABLE_WIDTH - 2) {
            let _ = writeln!(out, "  {line}");
        }
    }
    for s in &r.steps {
        let num = s
            .number
            .map_or_else(|| "   -".to_string(), |n| format!("{n:>3}."));
        let removed = if s.removed {
            "  (removed from runbook)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {} {num} {}  ({}){removed}",
            s.status.marker(),
            s.title,
            s.id
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Run;

    fn found(runbook: &str, target: &str) -> FoundRun {
        let run = Run {
            runbook: runbook.into(),
            target: target.into(),
            updated: "2026-11-26T11:42:10Z".into(),
            ..Run::default()
        };
        FoundRun {
            file: std::path::PathBuf::from("x.json"),
            run,
        }
    }

    #[test]
    fn table_fits_80_columns_at_the_built_in_ids() {
        let runs: Vec<FoundRun> = ["clearos-install", "gentoo-world-update", "xen4-migration"]
            .iter()
            .map(|id| found(id, "web1.example"))
            .collect();
        let reports: Vec<(&FoundRun, Report)> = runs
            .iter()
            .map(|f| {
                let mut r = report::build(&f.run, None);
                r.progress.done = 12;
                r.progress.total = 40;
                r.people = vec!["ana".into(), "bo".into()];
                (f, r)
            })
            .collect();
        let mut out = String::new();
        table(&mut out, &reports, &[]);
        for line in out.lines() {
            assert!(line.len() <= 80, "{} columns: {line:?}", line.len());
        }
        for want in ["12/40", "2026-11-26T11:42:10Z", "ana, bo", "INT", "RUN"] {
            assert!(out.contains(want), "{want} missing from\n{out}");
        }
    }

    #[test]
    fn table_fits_80_columns_with_long_targets_and_ids_without_cutting_them() {
        let long_target = "very-long-router-name-at-the-branch.example.com";
        let long_id = "a-runbook-with-an-id-much-longer-than-the-built-in-ones-have";
        let runs = [
            found("gentoo-world-update", long_target),
            found(long_id, "gw1"),
            found("clearos-install", &"x".repeat(120)),
        ];
        let reports: Vec<(&FoundRun, Report)> = runs
            .iter()
            .map(|f| {
                let mut r = report::build(&f.run, None);
                r.progress.done = 12;
                r.progress.total = 40;
                r.people = vec!["ana".into()];
                (f, r)
            })
            .collect();
        let mut out = String::new();
        table(&mut out, &reports, &[]);
        for line in out.lines() {
            assert!(line.len() <= 80, "{} columns: {line:?}", line.len());
        }
        let joined: String = out.split_whitespace().collect();
        for want in [
            long_target,
            long_id,
            &"x".repeat(120),
            "12/40",
            "2026-11-26T11:42:10Z",
        ] {
            assert!(joined.contains(want), "{want} cut from\n{out}");
        }
    }

    #[test]
    fn a_run_with_a_step_marked_done_is_not_described_as_untouched() {
        let mut f = found("clearos-install", "gw1");
        f.run.step_order = vec!["form".into(), "next".into()];
        f.run.values.insert("lan_ip".into(), "192.168.1.1".into());
        f.run.steps.insert(
            "form".into(),
            crate::core::progress::StepState {
                status: crate::core::progress::Status::Done,
                ..Default::default()
            },
        );
        let mut out = String::new();
        detail(&mut out, &report::build(&f.run, None), None);
        assert!(!out.contains("nobody"), "{out}");
        assert!(out.contains("last activity 2026-11-26T11:42:10Z"), "{out}");
        let md = report::markdown(&report::build(&f.run, None));
        assert!(!md.contains("nobody"), "{md}");

        let fresh = found("clearos-install", "gw1");
        let mut out = String::new();
        detail(&mut out, &report::build(&fresh.run, None), None);
        assert!(out.contains("nobody has worked on a step yet"), "{out}");
    }
}
