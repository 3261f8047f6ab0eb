//! Following, read-only, a run that another fieldbook holds: a thread reads the run's state
//! file now and again (never taking its lock, never writing) and sends it to the loop as
//! `Msg::Followed` whenever it changed, and `Msg::HolderLeft` once the holder lets it go,
//! until the runbook is left.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::core::progress::Run;
use crate::core::settings::Settings;
use crate::core::state_dir;
use crate::core::store;
use crate::ui::Msg;

/// How often the followed run's state file is read again.
pub(crate) const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The one run being followed, if any; dropping it stops the reading thread.
#[derive(Default)]
pub(crate) struct Follower {
    stop: Option<Arc<AtomicBool>>,
}

impl Follower {
    /// Follows the run of `runbook` in the mode and for the target of `settings` (stopping
    /// any run followed before); its changes arrive on `tx`.
    pub(crate) fn start(&mut self, settings: &Settings, runbook: &str, tx: Sender<Msg>) {
        self.stop();
        let Ok(dir) = settings.state() else {
            return;
        };
        let file = dir.run_file(runbook, &settings.target);
        let target = settings.target.clone();
        let (runbook, practice) = (runbook.to_string(), settings.practice);
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = Some(Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut last: Option<Run> = None;
            let mut told_left = false;
            while !stop.load(Ordering::SeqCst) {
                // The holder let go (left the runbook or ended): say so once.
                if !told_left && store::run_lock_held(&dir, &runbook, &target) == Some(false) {
                    told_left = true;
                    let msg = Msg::HolderLeft {
                        runbook: runbook.clone(),
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                // A file being replaced atomically is read whole or not at all; an unreadable
                // read is simply tried again next time.
                if let Ok(mut run) = state_dir::read_run(&file) {
                    run.practice = practice;
                    if last.as_ref() != Some(&run) {
                        last = Some(run.clone());
                        let msg = Msg::Followed {
                            runbook: runbook.clone(),
                            run: Some(Box::new(run)),
                        };
                        if tx.send(msg).is_err() {
                            return;
                        }
                    }
                }
                std::thread::sleep(FOLLOW_EVERY);
            }
        });
    }

    /// Stops following.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.store(true, Ordering::SeqCst);
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop();
    }
}
