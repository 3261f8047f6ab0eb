//! Test support for `update`: carries out the progress effects it asks for against a real
//! store in a temporary directory, as the app loop does, and feeds the stored truth back, so
//! unit tests see exactly what the technician would.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::model::{Effect, Model, Msg};
use super::update::update;
use crate::core::state_dir::StateDir;
use crate::core::store::{IfCorrupt, Store};

/// A state directory and the stores opened in it, by (practice, runbook).
type Stores = (tempfile::TempDir, BTreeMap<(bool, String), Store>);

thread_local! {
    /// One state directory per test thread.
    static STORES: RefCell<Option<Stores>> = const { RefCell::new(None) };
}

/// Carries out every `Effect::Record` in `effects` and feeds the answer to `update`; returns
/// the effects it did not carry out.
pub(crate) fn carry_out(m: &mut Model, effects: Vec<Effect>) -> Vec<Effect> {
    let mut rest = Vec::new();
    for effect in effects {
        let Effect::Record {
            runbook,
            transition,
        } = &effect
        else {
            rest.push(effect);
            continue;
        };
        let answer = STORES.with(|cell| {
            let mut cell = cell.borrow_mut();
            let (dir, stores) = cell
                .get_or_insert_with(|| (tempfile::tempdir().expect("temp dir"), BTreeMap::new()));
            let practice = m.settings.practice;
            let key = (practice, runbook.clone());
            if !stores.contains_key(&key) {
                let rb = m.runbook(runbook).expect("a runbook of the model");
                let state = StateDir::at(dir.path(), practice);
                let store = Store::open(&state, rb, &m.settings.target, IfCorrupt::Stop)
                    .expect("open the store");
                stores.insert(key.clone(), store);
            }
            let store = stores.get_mut(&key).expect("just opened");
            store.record(transition).map(|_| {
                let mut run = store.run().clone();
                run.practice = practice;
                run
            })
        });
        let msg = match answer {
            Ok(run) => Msg::RunLoaded(Box::new(run)),
            Err(e) => Msg::Problem(format!("progress not saved: {e}")),
        };
        let effects = update(m, msg);
        rest.extend(carry_out(m, effects));
        rest.push(effect);
    }
    rest
}

/// What the app's step runner does for a step that runs and ends with `outcome`: records the
/// start and the end, then tells `update`. Returns the effects `update` asked for.
pub(crate) fn runner_ends(
    m: &mut Model,
    runbook: &str,
    step: &str,
    outcome: crate::core::runner::RunOutcome,
) -> Vec<Effect> {
    use crate::core::store::Transition;
    let record = |transition| Effect::Record {
        runbook: runbook.to_string(),
        transition,
    };
    let step = step.to_string();
    carry_out(
        m,
        vec![
            record(Transition::Started { step: step.clone() }),
            record(Transition::Finished {
                step,
                outcome: outcome.clone(),
            }),
        ],
    );
    let effects = update(m, Msg::StepEnded(outcome));
    carry_out(m, effects)
}

/// A successful end of a run, as the runner reports it.
pub(crate) fn done() -> crate::core::runner::RunOutcome {
    crate::core::runner::RunOutcome {
        status: crate::core::progress::Status::Done,
        exit: Some(crate::core::progress::Exit::Code(0)),
        failed_program: None,
        message: "finished (exit 0)".into(),
    }
}
