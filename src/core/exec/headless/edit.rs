//! An edit step without the app: the diff printed, applied through the engine, recorded.

use super::*;
use crate::core::apply::{self, EditContext};
use crate::core::exit::UsageError;
use crate::core::runbook::Step;
use crate::core::{clock, machine};

impl Context<'_> {
    /// Applies an edit step through the edit engine (backups into the state directory's
    /// archive, atomic writes); in practice mode only shows the diff.
    pub(super) fn edit_step(
        &self,
        step: &Step,
        edits: &[crate::core::runbook::Edit],
    ) -> anyhow::Result<StepEnd> {
        let (base, archive) = {
            let store = self.store.borrow();
            (store.state_dir().base(), apply::archive_for(store.run()))
        };
        let ctx = EditContext {
            root: self.settings.root.as_deref(),
            state_dir: &base,
            archive: &archive,
            values: &self.values,
            follow_symlinks: false,
        };
        let remote = self.settings.machine.ssh();
        let previewed = match remote {
            Some(session) => {
                machine::remote_files::preview(session, self.settings.root.as_deref(), edits, &ctx)
            }
            None => apply::preview(edits, &ctx),
        };
        let preview = match previewed {
            Ok(p) => p,
            // The app asks before it edits through a link; exec cannot ask, so it says so with
            // the exit status of a step that needs the app.
            Err(e @ apply::EditError::Symlink { .. }) => {
                return Ok(StepEnd::NeedsTerminal(format!(
                    "{e}: the app asks for that confirmation"
                )));
            }
            Err(apply::EditError::NoValue { name, .. }) => return Err(self.no_value(step, &name)),
            Err(e) => return self.edit_failed(step, edits, &e.to_string()),
        };
        let _ = crate::core::stdio::print(&preview.diff_for_terminal());
        if preview.already_applied() {
            say(&format!("{}: already applied; nothing to change", step.id));
            self.store.borrow_mut().complete(&step.id)?;
            return Ok(StepEnd::Done);
        }
        if self.settings.practice {
            say("PRACTICE: no file was touched");
            self.store.borrow_mut().complete(&step.id)?;
            return Ok(StepEnd::Done);
        }
        let result = match remote {
            Some(session) => machine::remote_files::apply(
                session,
                self.settings.root.as_deref(),
                &step.id,
                edits,
                &ctx,
                &clock::now(),
            ),
            None => apply::apply(&step.id, &preview, &ctx, &clock::now()),
        };
        let (applied, error) = match result {
            Ok(applied) => (applied, None),
            Err(f) => (f.applied, Some(f.error.to_string())),
        };
        self.record_applied(step, edits, applied, error)
    }

    /// Exit 2, as for a command step: the value is missing, not the file.
    fn no_value(&self, step: &Step, variable: &str) -> anyhow::Error {
        let label = self
            .runbook
            .variable(variable)
            .map(|v| format!(" ({})", v.label))
            .unwrap_or_default();
        UsageError(format!(
            "step '{}' needs variable '{variable}'{label}: give it with --var \
             {variable}=VALUE (or do its form step first)",
            step.id
        ))
        .into()
    }

    /// Records the edits that were applied (secret values masked in their diffs), then the
    /// step done, or failed with `error`.
    fn record_applied(
        &self,
        step: &Step,
        edits: &[crate::core::runbook::Edit],
        mut applied: Vec<crate::core::progress::AppliedEdit>,
        error: Option<String>,
    ) -> anyhow::Result<StepEnd> {
        let secrets = self
            .runbook
            .variables
            .iter()
            .filter(|v| v.ty == crate::core::vars::VarType::Secret)
            .filter_map(|v| self.values.get(&v.name).map(String::as_str));
        apply::mask_secrets(&mut applied, secrets);
        let mut store = self.store.borrow_mut();
        for a in applied {
            store.record_edit(a)?;
        }
        match error {
            None => {
                store.complete(&step.id)?;
                Ok(StepEnd::Done)
            }
            Some(e) => {
                drop(store);
                self.edit_failed(step, edits, &e)
            }
        }
    }

    /// An edit step the engine refused or that failed part-way: says why and which files (as
    /// resolved under `--root`), and records the attempt as failed (no program ran, so no exit
    /// status) with the reason in its log.
    pub(super) fn edit_failed(
        &self,
        step: &Step,
        edits: &[crate::core::runbook::Edit],
        reason: &str,
    ) -> anyhow::Result<StepEnd> {
        say(&format!("{}: edit failed: {reason}", step.id));
        if let Some(root) = &self.settings.root {
            let files: Vec<String> = edits
                .iter()
                .map(|e| {
                    let path = crate::core::vars::substitute(&e.path, &self.values);
                    root.join(path.trim_start_matches('/'))
                        .display()
                        .to_string()
                })
                .collect();
            say(&format!(
                "{}: files resolved under --root {}: {}",
                step.id,
                root.display(),
                files.join(", ")
            ));
        }
        let mut store = self.store.borrow_mut();
        let started = store.start(&step.id)?;
        let _ = std::fs::write(&started.log, format!("fieldbook: edit failed: {reason}\n"));
        store.fail_without_exit(&step.id, &format!("edit failed: {reason}"))?;
        Ok(StepEnd::NotDone(reason.to_string()))
    }
}
