//! The fleet screen and a host's report, drawn into a buffer: insta snapshots at 80x24 in ASCII
//! without colour, and a render at every size that must not panic.

use std::collections::BTreeSet;

use fieldbook::core::fleet::ssh::SshSettings;
use fieldbook::core::fleet::{HostAnswer, HostReport, RunSummary};
use fieldbook::ui::fleet::{self, FleetResult};
use fieldbook::ui::keys::Key;
use fieldbook::ui::model::{Model, Msg};
use fieldbook::ui::theme::Theme;
use fieldbook::ui::{render, update};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn run(runbook: &str, done: u64, failed: &[&str], interrupted: &[&str], who: &str) -> RunSummary {
    RunSummary {
        runbook: runbook.into(),
        target: "alpha".into(),
        done,
        skipped: 0,
        total: 35,
        failed: failed.iter().map(|s| s.to_string()).collect(),
        interrupted: interrupted.iter().map(|s| s.to_string()).collect(),
        last_activity: "2026-11-26T10:00:00Z".into(),
        who: vec![who.into()],
        practice: false,
    }
}

fn model(size: (u16, u16)) -> Model {
    let mut m = Model::new(Vec::new(), BTreeSet::new(), Vec::new());
    m.theme = Theme::plain();
    m.size = size;
    let hosts = ["alpha", "beta", "gamma", "down", "odd"]
        .map(String::from)
        .to_vec();
    fleet::open(&mut m, SshSettings::from_env(), hosts);
    update(
        &mut m,
        Msg::Fleet(FleetResult::Answers(vec![
            HostReport {
                host: "alpha".into(),
                answer: HostAnswer::Ok {
                    runs: vec![
                        run("xen4-migration", 12, &["sync"], &[], "ann"),
                        run("gentoo-world-update", 3, &[], &["world"], "bob"),
                    ],
                    status: serde_json::Value::Null,
                },
            },
            HostReport {
                host: "beta".into(),
                answer: HostAnswer::Ok {
                    runs: vec![],
                    status: serde_json::Value::Null,
                },
            },
            HostReport {
                host: "gamma".into(),
                answer: HostAnswer::NoFieldbook {
                    message: "bash: line 1: fieldbook: command not found".into(),
                },
            },
            HostReport {
                host: "down".into(),
                answer: HostAnswer::Unreachable {
                    message: "ssh: connect to host down port 22: Connection refused".into(),
                },
            },
            HostReport {
                host: "odd".into(),
                answer: HostAnswer::Failed {
                    exit: Some(1),
                    message: "not fieldbook status JSON".into(),
                },
            },
        ])),
    );
    m
}

fn with_report(size: (u16, u16)) -> Model {
    let mut m = model(size);
    update(&mut m, Msg::Key(Key::Enter));
    update(
        &mut m,
        Msg::Fleet(FleetResult::Report {
            title: "alpha: xen4-migration".into(),
            text: Ok((1..=40)
                .map(|i| format!("line {i} of the handover report"))
                .collect::<Vec<_>>()
                .join("\n")),
        }),
    );
    m
}

fn draw(m: &Model) -> String {
    let area = Rect::new(0, 0, m.size.0, m.size.1);
    let mut buf = Buffer::empty(area);
    render(m, area, &mut buf);
    let w = buf.area.width as usize;
    buf.content
        .chunks(w.max(1))
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn fleet_80x24() {
    insta::assert_snapshot!(draw(&model((80, 24))));
}

#[test]
fn fleet_report_80x24() {
    insta::assert_snapshot!(draw(&with_report((80, 24))));
}

#[test]
fn every_size_draws_without_panic() {
    for cols in (1..=120).step_by(7) {
        for rows in 1..=40 {
            draw(&model((cols, rows)));
            draw(&with_report((cols, rows)));
        }
    }
}
