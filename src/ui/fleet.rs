//! The fleet screen's state and behaviour: every host × run in one list, refreshed in the
//! background over ssh; Enter on a row shows that host's handover report. No I/O here: the
//! asking is an [`Effect::Fleet`] the loop hands to `fleet_jobs`.

use crate::core::fleet::ssh::SshSettings;
use crate::core::fleet::{self, HostAnswer, HostReport};

use super::keys::Action;
use super::layout;
use super::model::{Cursor, Effect, Model, Screen};

/// What the fleet screen shows and how to ask again.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetView {
    /// Hosts in the order given.
    pub hosts: Vec<String>,
    /// How to reach them.
    pub settings: SshSettings,
    /// The last answers (empty until the first arrive).
    pub reports: Vec<HostReport>,
    /// Asking now.
    pub asking: bool,
    /// The report being shown: heading and lines (or the reason it could not be had).
    pub report: Option<(String, Vec<String>)>,
}

/// Background work for the fleet screen.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetJob {
    /// Ask every host for its status.
    Ask {
        /// How to reach them.
        settings: SshSettings,
        /// Which hosts.
        hosts: Vec<String>,
    },
    /// Fetch one run's handover report from one host.
    Report {
        /// How to reach it.
        settings: SshSettings,
        /// The host.
        host: String,
        /// Runbook id.
        runbook: String,
        /// The run's target on that host.
        target: String,
    },
}

/// What background fleet work came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetResult {
    /// Every host's answer, in host order.
    Answers(Vec<HostReport>),
    /// A report's heading and text, or why there is none.
    Report {
        /// e.g. `alpha: xen4-migration`.
        title: String,
        /// The Markdown report, or the error.
        text: Result<String, String>,
    },
}

/// One selectable row: a host's run, or a host line without runs (unreachable, no fieldbook,
/// no runs yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Index into `reports`.
    pub host: usize,
    /// Index into that host's runs.
    pub run: Option<usize>,
}

impl FleetView {
    /// The rows in display order.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (h, r) in self.reports.iter().enumerate() {
            match &r.answer {
                HostAnswer::Ok { runs, .. } if !runs.is_empty() => {
                    rows.extend((0..runs.len()).map(|i| Row {
                        host: h,
                        run: Some(i),
                    }));
                }
                _ => rows.push(Row { host: h, run: None }),
            }
        }
        rows
    }
}

/// Opens the fleet screen over the current one and returns the job that fills it.
pub fn open(model: &mut Model, settings: SshSettings, hosts: Vec<String>) -> Vec<Effect> {
    model.fleet = Some(FleetView {
        hosts: hosts.clone(),
        settings: settings.clone(),
        reports: Vec::new(),
        asking: true,
        report: None,
    });
    model.screens.push(Screen::Fleet {
        cursor: Cursor::default(),
    });
    vec![Effect::Fleet(FleetJob::Ask { settings, hosts })]
}

/// The ask the app must start when it opens on a fleet that has no answers yet.
pub fn first_job(model: &Model) -> Option<FleetJob> {
    let view = model.fleet.as_ref()?;
    (view.asking && view.reports.is_empty()).then(|| FleetJob::Ask {
        settings: view.settings.clone(),
        hosts: view.hosts.clone(),
    })
}

/// Keys on the fleet list and the report screen.
pub fn key(model: &mut Model, action: Action) -> Vec<Effect> {
    let page = layout::page(model.size);
    let top = model.screens.len() - 1;
    match model.screens[top].clone() {
        Screen::Fleet { cursor } => list_key(model, top, cursor, action, page),
        Screen::FleetReport { scroll } => {
            let lines = model
                .fleet
                .as_ref()
                .and_then(|f| f.report.as_ref())
                .map_or(0, |(_, l)| l.len());
            let last = lines.saturating_sub(page);
            let s = match action {
                Action::Back => {
                    model.screens.pop();
                    return Vec::new();
                }
                Action::Up => scroll.saturating_sub(1),
                Action::Down => scroll + 1,
                Action::PageUp => scroll.saturating_sub(page),
                Action::PageDown => scroll + page,
                Action::Top => 0,
                Action::Bottom => last,
                _ => scroll,
            };
            model.screens[top] = Screen::FleetReport {
                scroll: s.min(last),
            };
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn list_key(
    model: &mut Model,
    top: usize,
    cursor: Cursor,
    action: Action,
    page: usize,
) -> Vec<Effect> {
    let Some(view) = model.fleet.as_mut() else {
        return Vec::new();
    };
    let rows = view.rows();
    let last = rows.len().saturating_sub(1);
    let index = match action {
        Action::Back => {
            if model.screens.len() > 1 {
                model.screens.pop();
            }
            return Vec::new();
        }
        Action::Refresh => {
            if view.asking {
                return Vec::new();
            }
            view.asking = true;
            return vec![Effect::Fleet(FleetJob::Ask {
                settings: view.settings.clone(),
                hosts: view.hosts.clone(),
            })];
        }
        Action::Open => {
            let Some(row) = rows.get(cursor.index) else {
                return Vec::new();
            };
            let Some(report) = view.reports.get(row.host) else {
                return Vec::new();
            };
            let host = report.host.clone();
            let job = match (&report.answer, row.run) {
                (HostAnswer::Ok { runs, .. }, Some(i)) => {
                    let run = &runs[i.min(runs.len().saturating_sub(1))];
                    view.report = Some((
                        format!("{host}: {}", run.runbook),
                        vec!["Asking the host for its report...".into()],
                    ));
                    Some(FleetJob::Report {
                        settings: view.settings.clone(),
                        host,
                        runbook: run.runbook.clone(),
                        target: run.target.clone(),
                    })
                }
                (answer, _) => {
                    // Nothing to fetch: show what is known about the host.
                    let note = fleet::note(&HostReport {
                        host: host.clone(),
                        answer: answer.clone(),
                    });
                    view.report = Some((host, note.into_iter().collect()));
                    None
                }
            };
            model.screens.push(Screen::FleetReport { scroll: 0 });
            return job.map(Effect::Fleet).into_iter().collect();
        }
        Action::Up => cursor.index.saturating_sub(1),
        Action::Down => cursor.index + 1,
        Action::PageUp => cursor.index.saturating_sub(page),
        Action::PageDown => cursor.index + page,
        Action::Top => 0,
        Action::Bottom => last,
        _ => cursor.index,
    };
    model.screens[top] = Screen::Fleet {
        cursor: Cursor {
            index: index.min(last),
        },
    };
    Vec::new()
}

/// Applies what background fleet work came back with.
pub fn result(model: &mut Model, result: FleetResult) -> Vec<Effect> {
    let Some(view) = model.fleet.as_mut() else {
        return Vec::new();
    };
    match result {
        FleetResult::Answers(reports) => {
            view.reports = reports;
            view.asking = false;
            let last = view.rows().len().saturating_sub(1);
            for s in &mut model.screens {
                if let Screen::Fleet { cursor } = s {
                    cursor.index = cursor.index.min(last);
                }
            }
        }
        FleetResult::Report { title, text } => {
            let lines = match text {
                Ok(t) => t
                    .lines()
                    .map(crate::core::terminal_text::terminal_safe_line)
                    .collect(),
                Err(e) => vec![format!(
                    "No report: {}",
                    crate::core::terminal_text::terminal_safe_line(&e)
                )],
            };
            view.report = Some((title, lines));
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fleet::RunSummary;
    use crate::ui::keys::Key;
    use crate::ui::model::Msg;
    use crate::ui::update::update;

    fn summary(runbook: &str) -> RunSummary {
        RunSummary {
            runbook: runbook.into(),
            target: "alpha".into(),
            done: 1,
            skipped: 0,
            total: 3,
            failed: vec![],
            interrupted: vec![],
            last_activity: "2026-11-26T10:00:00Z".into(),
            who: vec!["ann".into()],
            practice: false,
        }
    }

    fn model_with_fleet() -> (Model, Vec<Effect>) {
        let mut m = Model::new(Vec::new(), Default::default(), Vec::new());
        let fx = open(
            &mut m,
            SshSettings::from_env(),
            vec!["alpha".into(), "down".into()],
        );
        (m, fx)
    }

    #[test]
    fn opening_asks_every_host_and_answers_fill_the_rows() {
        let (mut m, fx) = model_with_fleet();
        assert!(
            matches!(&fx[..], [Effect::Fleet(FleetJob::Ask { hosts, .. })] if hosts.len() == 2)
        );
        assert!(matches!(m.screen(), Screen::Fleet { .. }));
        update(
            &mut m,
            Msg::Fleet(FleetResult::Answers(vec![
                HostReport {
                    host: "alpha".into(),
                    answer: HostAnswer::Ok {
                        runs: vec![summary("xen4-migration"), summary("gentoo-world-update")],
                        status: serde_json::Value::Null,
                    },
                },
                HostReport {
                    host: "down".into(),
                    answer: HostAnswer::Unreachable {
                        message: "Connection refused".into(),
                    },
                },
            ])),
        );
        let view = m.fleet.as_ref().unwrap();
        assert!(!view.asking);
        assert_eq!(view.rows().len(), 3);
        // Enter on the second run asks alpha for that run's report.
        update(&mut m, Msg::Key(Key::Down));
        let fx = update(&mut m, Msg::Key(Key::Enter));
        assert!(
            matches!(&fx[..], [Effect::Fleet(FleetJob::Report { host, runbook, target, .. })]
                if host == "alpha" && runbook == "gentoo-world-update" && target == "alpha"),
            "{fx:?}"
        );
        assert!(matches!(m.screen(), Screen::FleetReport { .. }));
        update(
            &mut m,
            Msg::Fleet(FleetResult::Report {
                title: "alpha: gentoo-world-update".into(),
                text: Ok("# Report\nline \u{1b}[2J".into()),
            }),
        );
        let (_, lines) = m.fleet.as_ref().unwrap().report.clone().unwrap();
        assert_eq!(lines, ["# Report", "line ?[2J"]);
        // Esc goes back to the list; Enter on the unreachable host shows why, asks nothing.
        update(&mut m, Msg::Key(Key::Esc));
        update(&mut m, Msg::Key(Key::Down));
        let fx = update(&mut m, Msg::Key(Key::Enter));
        assert!(fx.is_empty());
        let (_, lines) = m.fleet.as_ref().unwrap().report.clone().unwrap();
        assert!(
            lines[0].contains("UNREACHABLE: Connection refused"),
            "{lines:?}"
        );
    }

    #[test]
    fn refresh_asks_again_once() {
        let (mut m, _) = model_with_fleet();
        assert!(
            update(&mut m, Msg::Key(Key::Char('r'))).is_empty(),
            "still asking"
        );
        update(&mut m, Msg::Fleet(FleetResult::Answers(Vec::new())));
        let fx = update(&mut m, Msg::Key(Key::Char('r')));
        assert!(matches!(&fx[..], [Effect::Fleet(FleetJob::Ask { .. })]));
    }
}
