//! The handover report: everything a colleague (or a ticket) needs to know about a run, built
//! from the run alone (and the runbook for titles and order when it is still available), then
//! rendered as Markdown that reads well pasted into a ticket, or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::clock;
use super::progress::{AppliedEdit, Exit, Run, Status, Tally};
use super::runbook::Runbook;

/// The report of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Runbook id.
    pub runbook: String,
    /// Runbook title.
    pub title: String,
    /// Target the run is for.
    pub target: String,
    /// Host fieldbook ran on.
    pub host: String,
    /// A practice run (nothing was executed).
    pub practice: bool,
    /// Everyone who started an attempt or wrote a note.
    pub people: Vec<String>,
    /// First activity.
    pub first_activity: String,
    /// Last activity.
    pub last_activity: String,
    /// Counts per status.
    pub progress: Tally,
    /// The next step to do, if any.
    pub next: Option<String>,
    /// Variable values entered (secrets are never stored, so never shown).
    pub values: BTreeMap<String, String>,
    /// Every step of the runbook in order, then steps removed from the runbook.
    pub steps: Vec<StepReport>,
    /// Edits applied, in order.
    pub edits: Vec<AppliedEdit>,
}

impl Report {
    /// True when nothing at all is recorded for the run: no value set, no step started, done,
    /// skipped or noted, no edit. A step marked done or a form's values record no attempt (so
    /// no person), yet the run is not untouched.
    pub fn untouched(&self) -> bool {
        self.people.is_empty()
            && self.values.is_empty()
            && self.edits.is_empty()
            && self.steps.iter().all(|s| s.status == Status::Pending)
    }
}

/// One step in the report.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// 1-based position in the runbook; absent for removed steps.
    pub number: Option<usize>,
    /// Step id.
    pub id: String,
    /// Step title (the id when unknown).
    pub title: String,
    /// Section title, when the runbook is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Status.
    pub status: Status,
    /// No longer in the runbook: kept so nothing recorded is lost.
    pub removed: bool,
    /// Skip or mark-done reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Duration of the last attempt, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<i64>,
    /// How the last attempt ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<Exit>,
    /// Every attempt.
    pub attempts: Vec<AttemptReport>,
    /// Notes.
    pub notes: Vec<NoteReport>,
}

/// One attempt in the report.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptReport {
    /// Attempt number.
    pub number: u32,
    /// Who ran it.
    pub who: String,
    /// Start.
    pub started: String,
    /// End, if it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// Seconds it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<i64>,
    /// How the process ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<Exit>,
    /// Which program of a multi-command step failed (1-based, as a technician counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_command: Option<usize>,
    /// Outcome in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Log file, relative to the state directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// One note in the report.
#[derive(Debug, Clone, Serialize)]
pub struct NoteReport {
    /// When.
    pub at: String,
    /// Who.
    pub who: String,
    /// The note.
    pub text: String,
}

/// Builds the report. With the runbook, steps follow its current order and titles; without it
/// (deleted or renamed), the order saved in the run is used.
pub fn build(run: &Run, runbook: Option<&Runbook>) -> Report {
    let order: Vec<(String, Option<String>, Option<String>)> = match runbook {
        Some(rb) => rb
            .steps()
            .map(|(sec, st)| {
                (
                    st.id.clone(),
                    Some(st.title.clone()),
                    Some(sec.title.clone()),
                )
            })
            .collect(),
        None => run
            .step_order
            .iter()
            .map(|id| (id.clone(), None, None))
            .collect(),
    };
    let mut steps = Vec::new();
    for (i, (id, title, section)) in order.iter().enumerate() {
        steps.push(step_report(
            run,
            id,
            Some(i + 1),
            title.clone(),
            section.clone(),
        ));
    }
    for id in run.steps.keys() {
        if !order.iter().any(|(o, _, _)| o == id) {
            steps.push(step_report(run, id, None, None, None));
        }
    }
    let mut run_now = run.clone();
    run_now.step_order = order.iter().map(|(id, _, _)| id.clone()).collect();
    Report {
        runbook: run.runbook.clone(),
        title: runbook.map_or_else(|| run.title.clone(), |rb| rb.title.clone()),
        target: run.target.clone(),
        host: run.host.clone(),
        practice: run.practice,
        people: run.people().into_iter().map(str::to_string).collect(),
        first_activity: run.started.clone(),
        last_activity: run.updated.clone(),
        progress: run_now.tally(),
        next: run_now.first_unfinished().map(str::to_string),
        values: run.values.clone(),
        steps,
        edits: run.edits.clone(),
    }
}

fn step_report(
    run: &Run,
    id: &str,
    number: Option<usize>,
    title: Option<String>,
    section: Option<String>,
) -> StepReport {
    let st = run.steps.get(id).cloned().unwrap_or_default();
    let attempts: Vec<AttemptReport> = st
        .attempts
        .iter()
        .map(|a| AttemptReport {
            number: a.number,
            who: a.who.clone(),
            started: a.started.clone(),
            ended: a.ended.clone(),
            duration_secs: a
                .ended
                .as_deref()
                .and_then(|e| clock::between(&a.started, e)),
            exit: a.exit,
            failed_command: a.failed_program.map(|p| p + 1),
            outcome: a.outcome.clone(),
            log: a.log.clone(),
        })
        .collect();
    let last = attempts.last();
    StepReport {
        number,
        id: id.to_string(),
        title: title
            .or_else(|| (!st.title.is_empty()).then(|| st.title.clone()))
            .unwrap_or_else(|| id.to_string()),
        section,
        status: st.status,
        removed: number.is_none(),
        reason: st.reason.clone(),
        duration_secs: last.and_then(|a| a.duration_secs),
        exit: last.and_then(|a| a.exit),
        notes: st
            .notes
            .iter()
            .map(|n| NoteReport {
                at: n.at.clone(),
                who: n.who.clone(),
                text: n.text.clone(),
            })
            .collect(),
        attempts,
    }
}

/// One line summarising progress: `5/26 done, 1 failed, 2 skipped, 1 interrupted`.
pub fn progress_line(t: &Tally) -> String {
    let mut parts = vec![format!("{}/{} done", t.done, t.total)];
    for (n, what) in [
        (t.running, "running"),
        (t.failed, "failed"),
        (t.skipped, "skipped"),
        (t.interrupted, "interrupted"),
        (t.cancelled, "cancelled"),
        (t.removed, "removed from runbook"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

/// Text that goes into a Markdown table cell: one line, Markdown escaped.
fn cell(s: &str) -> String {
    escape(&s.replace(['\n', '\r'], " ")).replace('|', "\\|")
}

/// Free text (titles, reasons, notes) with every character Markdown could read as markup
/// backslash-escaped: a title or a note cannot put a link, an image or HTML into the ticket.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '~' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Inline code that survives backticks in the text: the fence is one backtick longer than the
/// longest run inside, with a space on each side when the text starts or ends with one (or
/// with a space), so no value can close it early and put markup into the ticket.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// The report as Markdown: a summary table, the step table, then details (reasons, notes,
/// attempts with their logs) only for steps that have any, then edits with their diffs.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let practice = if r.practice { " (practice)" } else { "" };
    let _ = writeln!(
        o,
        "# Handover: {} on {}{practice}\n",
        cell(&r.title),
        cell(&r.target)
    );
    summary_table(&mut o, r);
    if !r.values.is_empty() {
        let _ = writeln!(o, "\n## Values entered\n");
        for (k, v) in &r.values {
            let _ = writeln!(o, "- {}: {}", code(k), code(v));
        }
    }
    steps_table(&mut o, r);
    let detailed: Vec<&StepReport> = r
        .steps
        .iter()
        .filter(|s| s.reason.is_some() || !s.notes.is_empty() || !s.attempts.is_empty())
        .collect();
    if !detailed.is_empty() {
        let _ = writeln!(o, "\n## Details");
        for s in detailed {
            step_details(&mut o, s);
        }
    }
    edits_applied(&mut o, r);
    o
}

/// The table at the top: runbook, target, host, people, activity, progress, next step.
fn summary_table(o: &mut String, r: &Report) {
    let _ = writeln!(o, "| | |\n|---|---|");
    let people = if r.untouched() {
        "nobody yet".to_string()
    } else if r.people.is_empty() {
        "not recorded (steps marked or values set without an attempt)".to_string()
    } else {
        r.people.join(", ")
    };
    let next = r
        .next
        .as_deref()
        .map_or_else(|| "nothing: every step is done or skipped".into(), code);
    for (k, v) in [
        ("Runbook", code(&r.runbook)),
        ("Target", cell(&r.target)),
        ("Host", cell(&r.host)),
        ("Worked on by", cell(&people)),
        ("First activity", r.first_activity.clone()),
        ("Last activity", r.last_activity.clone()),
        ("Progress", progress_line(&r.progress)),
        ("Next step", next),
    ] {
        let _ = writeln!(o, "| {k} | {v} |");
    }
}

/// One row per step: number, title and id, status, time taken, exit.
fn steps_table(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\n## Steps\n");
    let _ = writeln!(o, "| # | Step | Status | Took | Exit |");
    let _ = writeln!(o, "|---|---|---|---|---|");
    for s in &r.steps {
        let num = s.number.map_or_else(|| "-".to_string(), |n| n.to_string());
        let mut status = s.status.name().to_string();
        if s.removed {
            status.push_str(" (removed from runbook)");
        }
        let took = s
            .duration_secs
            .map(clock::duration_words)
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "| {num} | {} ({}) | {} | {took} | {} |",
            cell(&s.title),
            code(&s.id),
            status,
            s.exit.map(|e| e.to_string()).unwrap_or_default()
        );
    }
}

/// Each edit applied (or undone), with its backup and its diff fenced as diff.
fn edits_applied(o: &mut String, r: &Report) {
    if !r.edits.is_empty() {
        let _ = writeln!(o, "\n## Edits applied");
        for e in &r.edits {
            let undone = if e.undone { " (undone)" } else { "" };
            let _ = writeln!(o, "\n### {}{undone}\n", code(&e.path));
            let _ = writeln!(o, "- Step {}, at {}", code(&e.step), e.at);
            if let Some(b) = &e.backup {
                let _ = writeln!(o, "- Backup: {}", code(b));
            }
            if e.diff.trim().is_empty() {
                let _ = writeln!(o, "- No diff recorded");
            } else {
                let fence = if e.diff.contains("```") {
                    "~~~~"
                } else {
                    "```"
                };
                let _ = writeln!(o, "\n{fence}diff\n{}\n{fence}", e.diff.trim_end());
            }
        }
    }
}

fn step_details(o: &mut String, s: &StepReport) {
    let num = s.number.map_or_else(String::new, |n| format!("{n}. "));
    let removed = if s.removed {
        " (removed from runbook)"
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "\n### {num}{} — {}{removed}\n",
        escape(&s.title.replace(['\n', '\r'], " ")),
        s.status.name()
    );
    if let Some(reason) = &s.reason {
        let why = match s.status {
            Status::Skipped => "Skipped because",
            Status::Done => "Marked done by hand",
            _ => "Reason",
        };
        let _ = writeln!(o, "- {why}: {}", indent(reason));
    }
    for a in &s.attempts {
        let mut line = format!("- Attempt {} by {}, {}", a.number, a.who, a.started);
        if let Some(end) = &a.ended {
            let _ = write!(line, " to {end}");
        }
        if let Some(d) = a.duration_secs {
            let _ = write!(line, " ({})", clock::duration_words(d));
        }
        if let Some(x) = a.exit {
            let _ = write!(line, ": {x}");
        }
        if let Some(n) = a.failed_command {
            let _ = write!(line, " (command {n} failed)");
        }
        if let Some(out) = &a.outcome {
            let _ = write!(line, "; {}", indent(out));
        }
        if let Some(log) = &a.log {
            let _ = write!(line, "; log {}", code(log));
        }
        let _ = writeln!(o, "{line}");
    }
    for n in &s.notes {
        let _ = writeln!(o, "- Note by {}, {}: {}", n.who, n.at, indent(&n.text));
    }
}

/// Keeps a multi-line text inside its Markdown list item, escaped.
fn indent(s: &str) -> String {
    escape(s.trim()).replace('\n', "\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::{Attempt, Exit, Note, StepState};

    #[test]
    fn removed_steps_are_listed_after_the_runbook_with_their_titles() {
        let mut run = Run {
            runbook: "rb".into(),
            target: "t".into(),
            step_order: vec!["a".into(), "b".into()],
            ..Run::default()
        };
        run.steps.insert(
            "gone".into(),
            StepState {
                status: Status::Done,
                title: "Old step".into(),
                ..StepState::default()
            },
        );
        run.steps.insert(
            "a".into(),
            StepState {
                status: Status::Failed,
                attempts: vec![Attempt {
                    number: 1,
                    started: "2026-11-26T10:00:00Z".into(),
                    ended: Some("2026-11-26T10:03:07Z".into()),
                    exit: Some(Exit::Code(2)),
                    failed_program: Some(1),
                    who: "ana".into(),
                    log: Some("logs/rb@t/a.1.log".into()),
                    ..Attempt::default()
                }],
                notes: vec![Note {
                    at: "2026-11-26T10:04:00Z".into(),
                    who: "bo".into(),
                    text: "mirror | down\nsecond line".into(),
                }],
                ..StepState::default()
            },
        );
        let r = build(&run, None);
        let ids: Vec<_> = r.steps.iter().map(|s| (s.id.as_str(), s.removed)).collect();
        assert_eq!(ids, [("a", false), ("b", false), ("gone", true)]);
        assert_eq!(r.steps[0].duration_secs, Some(187));
        assert_eq!(r.next.as_deref(), Some("a"));
        let md = markdown(&r);
        assert!(
            md.contains("| - | Old step (`gone`) | done (removed from runbook) |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 | a (`a`) | failed | 3m 07s | exit 2 |"),
            "{md}"
        );
        assert!(
            md.contains("(command 2 failed); log `logs/rb@t/a.1.log`"),
            "{md}"
        );
        assert!(md.contains("mirror | down\n  second line"), "{md}");
        assert_eq!(
            progress_line(&r.progress),
            "0/2 done, 1 failed, 1 removed from runbook"
        );
    }

    /// Issue 17 item 15: a value, title or note cannot put links, images or HTML into the
    /// Markdown handover; a value with backticks stays one piece of inline code.
    #[test]
    fn markdown_cannot_be_injected_by_values_titles_or_notes() {
        for (value, want) in [
            ("a``b", "``` a``b ```"),
            ("`x`", "`` `x` ``"),
            ("plain", "`plain`"),
            ("two\nlines", "`two lines`"),
        ] {
            assert_eq!(code(value), want);
        }
        let evil = "x`` ![i](http://evil/p.png) [c](http://evil/) <img src=x> ``y";
        let shown = code(evil);
        assert!(
            shown.starts_with("``` ") && shown.ends_with(" ```"),
            "{shown}"
        );
        assert_eq!(&shown[4..shown.len() - 4], evil);
        let text = escape("see ![i](http://evil/p.png) and [c](http://evil/) <b>");
        assert_eq!(
            text,
            "see \\!\\[i\\](http://evil/p.png) and \\[c\\](http://evil/) \\<b\\>"
        );
        assert_eq!(cell("a | b"), "a \\| b");
    }
}
