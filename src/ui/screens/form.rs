//! A form step: one field per variable, validated as you type with the reason under the field,
//! defaults and help shown, secrets masked.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};

use super::fields::{FIELD_ROWS, FieldView, draw_field};
use crate::core::vars::VarType;
use crate::ui::keys::Scope;
use crate::ui::model::{Field, Model};
use crate::ui::update::form::{XEN_MAC_PREFIX, field_error};
use crate::ui::widgets::{self, put};

/// What the form screen holds: variable names, their fields, the focused one.
pub type FormState<'a> = (&'a [String], &'a [Field], usize);

/// Draws the form; returns where the text cursor goes.
pub fn draw(
    model: &Model,
    runbook: &str,
    step: &str,
    (names, fields, focus): FormState<'_>,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    let (rb, st) = model.step(runbook, step)?;
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        &st.title,
        &format!("field {}/{}", focus + 1, names.len()),
        Scope::Form,
        model.message.as_deref(),
    );
    put(
        buf,
        inner.x + 1,
        inner.y,
        "Type the values; Tab moves, Enter saves. Esc keeps what you typed.",
        inner.width.saturating_sub(1),
        model.theme.quiet(),
    );
    let label_width = names
        .iter()
        .map(|n| rb.variable(n).map_or(n.len(), |v| v.label.chars().count()))
        .max()
        .unwrap_or(8)
        .clamp(8, usize::from(inner.width / 3).max(8)) as u16;
    // Whole pages of fields, so the focused one is always on screen.
    let rows = inner.height.saturating_sub(2).max(FIELD_ROWS);
    let per_page = usize::from((rows / FIELD_ROWS).max(1));
    let first = (focus / per_page) * per_page;
    let mut cursor = None;
    for (slot, i) in (first..names.len()).take(per_page).enumerate() {
        let name = &names[i];
        let var = rb.variable(name);
        let field = &fields[i];
        let error = field_error(model, runbook, name, field.value.trim());
        let note = match (&error, var) {
            (Some(_), Some(v))
                if v.ty == VarType::Mac && field.value.starts_with(XEN_MAC_PREFIX) =>
            {
                Some((
                    "Xen guests use 00:16:3e: type the last three pairs".to_string(),
                    true,
                ))
            }
            (Some(e), _) => Some((e.clone(), true)),
            (None, Some(v)) if v.ty == VarType::Mac && field.value.starts_with(XEN_MAC_PREFIX) => {
                Some((
                    "Xen guest MAC (00:16:3e is Xen's prefix)".to_string(),
                    false,
                ))
            }
            (None, Some(v)) => {
                let mut help = v.help.clone();
                if let Some(d) = &v.default
                    && v.ty != VarType::Secret
                {
                    help = format!("default: {d}  {help}");
                }
                if v.ty == VarType::Secret {
                    help = format!("secret: masked and never saved  {help}");
                }
                (!help.trim().is_empty()).then(|| (help.trim().to_string(), false))
            }
            _ => None,
        };
        let label = var.map_or(name.as_str(), |v| v.label.as_str());
        let view = FieldView {
            label,
            field,
            masked: var.is_some_and(|v| v.ty == VarType::Secret),
            note,
            focused: i == focus,
        };
        let y = inner.y + 2 + slot as u16 * FIELD_ROWS;
        if let Some(p) = draw_field(buf, &model.theme, inner, y, label_width, &view) {
            cursor = Some(p);
        }
    }
    if names.len() > per_page {
        let (boxed, _, _) = crate::ui::layout::frame(area);
        widgets::more_marks(
            buf,
            boxed,
            &model.theme,
            first > 0,
            first + per_page < names.len(),
        );
    }
    cursor
}
