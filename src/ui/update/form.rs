//! Text fields: the form step (typed variables validated as you type, saved into the run and
//! filled into later steps; secrets kept in memory only) and the field editing shared with the
//! subnet calculator and quiz (tui-input does the cursor work).

use tui_input::{Input, InputRequest};

use crate::core::runbook::Action as StepAction;
use crate::core::store::Transition;
use crate::core::vars::VarType;

use super::super::keys::Action;
use super::super::model::{Effect, Field, Model, Screen};
use super::{pop, record};

/// The prefix every Xen guest MAC starts with, offered in empty MAC fields.
pub const XEN_MAC_PREFIX: &str = "00:16:3e:";

/// Applies one editing request to a field through tui-input.
pub fn edit_field(field: &mut Field, request: InputRequest) {
    let mut input = Input::new(field.value.clone()).with_cursor(field.cursor);
    input.handle(request);
    field.value = input.value().to_string();
    field.cursor = input.cursor();
}

/// The editing request of a key action in a field, if it is one.
pub fn request_of(action: Action) -> Option<InputRequest> {
    Some(match action {
        Action::DeleteBack => InputRequest::DeletePrevChar,
        Action::DeleteForward => InputRequest::DeleteNextChar,
        Action::ClearLine => InputRequest::DeleteLine,
        Action::CursorLeft => InputRequest::GoToPrevChar,
        Action::CursorRight => InputRequest::GoToNextChar,
        Action::CursorStart => InputRequest::GoToStart,
        Action::CursorEnd => InputRequest::GoToEnd,
        _ => return None,
    })
}

fn draft_key(runbook: &str, step: &str) -> String {
    format!("{runbook}/{step}")
}

/// `r` on a form step: opens the form with the draft left by Esc, else the run's values, else
/// the defaults (and the Xen MAC prefix in an empty MAC field).
pub(super) fn open(model: &mut Model, runbook: &str, step: &str) {
    let Some((rb, st)) = model.step(runbook, step) else {
        return;
    };
    let StepAction::Form { fields: names } = &st.action else {
        return;
    };
    let names = names.clone();
    let fields = match model.drafts.get(&draft_key(runbook, step)) {
        Some(d) if d.len() == names.len() => d.clone(),
        _ => names
            .iter()
            .map(|n| {
                let var = rb.variable(n);
                let stored = model
                    .secrets
                    .get(n)
                    .or_else(|| model.run(runbook).and_then(|r| r.values.get(n)))
                    .or_else(|| model.offers.get(n))
                    .cloned();
                let value = stored
                    .or_else(|| var.and_then(|v| v.default.clone()))
                    .unwrap_or_else(|| match var.map(|v| v.ty) {
                        Some(VarType::Mac) => XEN_MAC_PREFIX.to_string(),
                        _ => String::new(),
                    });
                Field::with(&value)
            })
            .collect(),
    };
    model.screens.push(Screen::Form {
        runbook: runbook.into(),
        step: step.into(),
        names,
        fields,
        focus: 0,
    });
}

/// The fields and focus of the screen on top, when it has fields.
pub fn fields_mut(model: &mut Model) -> Option<(&mut Vec<Field>, &mut usize)> {
    match model.screens.last_mut()? {
        Screen::Form { fields, focus, .. } | Screen::SubnetCalc { fields, focus, .. } => {
            Some((fields, focus))
        }
        Screen::Quiz(q) => Some((&mut q.fields, &mut q.focus)),
        _ => None,
    }
}

/// A printable key typed into the focused field.
pub(super) fn typed(model: &mut Model, c: char) {
    if let Some((fields, focus)) = fields_mut(model)
        && let Some(f) = fields.get_mut(*focus)
    {
        edit_field(f, InputRequest::InsertChar(c));
    }
}

/// Focus movement and editing, shared by every field screen. True when the action was one.
pub(super) fn field_action(model: &mut Model, action: Action) -> bool {
    let Some((fields, focus)) = fields_mut(model) else {
        return false;
    };
    let n = fields.len().max(1);
    match action {
        Action::Next => *focus = (*focus + 1) % n,
        Action::Previous => *focus = (*focus + n - 1) % n,
        other => match (request_of(other), fields.get_mut(*focus)) {
            (Some(req), Some(f)) => edit_field(f, req),
            _ => return false,
        },
    }
    true
}

/// Keys on the form screen.
pub(super) fn form_key(model: &mut Model, action: Action) -> Vec<Effect> {
    if field_action(model, action) {
        return Vec::new();
    }
    let Some(Screen::Form {
        runbook,
        step,
        names,
        fields,
        ..
    }) = model.screens.last().cloned()
    else {
        return Vec::new();
    };
    match action {
        Action::Back => {
            model.drafts.insert(draft_key(&runbook, &step), fields);
            pop(model);
            Vec::new()
        }
        Action::Submit => submit(model, &runbook, &step, &names, &fields),
        _ => Vec::new(),
    }
}

/// Why a field's text is not acceptable, or `None`. Shown under the field as you type.
pub fn field_error(model: &Model, runbook: &str, name: &str, value: &str) -> Option<String> {
    let var = model.runbook(runbook)?.variable(name)?;
    if value.is_empty() {
        return Some("required".into());
    }
    var.ty.validate(value, &var.choices).err()
}

fn submit(
    model: &mut Model,
    runbook: &str,
    step: &str,
    names: &[String],
    fields: &[Field],
) -> Vec<Effect> {
    let bad = names
        .iter()
        .zip(fields)
        .enumerate()
        .find_map(|(i, (n, f))| field_error(model, runbook, n, f.value.trim()).map(|e| (i, n, e)));
    if let Some((i, name, e)) = bad {
        let label = model
            .runbook(runbook)
            .and_then(|rb| rb.variable(name))
            .map_or(name.clone(), |v| v.label.clone());
        model.message = Some(format!("{label}: {e}"));
        if let Some(Screen::Form { focus, .. }) = model.screens.last_mut() {
            *focus = i;
        }
        return Vec::new();
    }
    let secret: Vec<bool> = names
        .iter()
        .map(|n| {
            model
                .runbook(runbook)
                .and_then(|rb| rb.variable(n))
                .is_some_and(|v| v.ty == VarType::Secret)
        })
        .collect();
    for ((n, f), is_secret) in names.iter().zip(fields).zip(&secret) {
        if *is_secret {
            model.secrets.insert(n.clone(), f.value.trim().to_string());
        }
    }
    let values = names
        .iter()
        .zip(fields)
        .map(|(n, f)| (n.clone(), f.value.trim().to_string()))
        .collect();
    let effects = vec![
        record(runbook, Transition::ValuesSet { values }),
        record(
            runbook,
            Transition::MarkedDone {
                step: step.to_string(),
                reason: None,
            },
        ),
    ];
    model.drafts.remove(&draft_key(runbook, step));
    pop(model);
    model.message = Some("Saved: the values are filled into the later steps".into());
    effects
}
