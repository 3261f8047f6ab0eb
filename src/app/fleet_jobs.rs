//! The fleet screen's background work: asking hosts over ssh on a thread, so the app keeps
//! answering keys while a slow or dead host times out. Results come back as `Msg::Fleet`.

use std::sync::mpsc::Sender;

use crate::core::fleet::ssh;
use crate::ui::Msg;
use crate::ui::fleet::{FleetJob, FleetResult};

/// Starts `job` on its own thread; its result is sent on `tx`.
pub(crate) fn start(job: FleetJob, tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let result = match job {
            FleetJob::Ask { settings, hosts } => {
                FleetResult::Answers(ssh::ask_all(&settings, &hosts))
            }
            FleetJob::Report {
                settings,
                host,
                runbook,
                target,
            } => FleetResult::Report {
                title: format!("{host}: {runbook}"),
                text: ssh::report(&settings, &host, &runbook, &target),
            },
        };
        let _ = tx.send(Msg::Fleet(result));
    });
}
