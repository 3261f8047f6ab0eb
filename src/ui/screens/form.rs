//! A form step: one field per variable, validated as you type with the reason under the field,
//! defaults and help shown, secrets masked.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};

use super::fields::{FIELD_ROWS, FieldView, draw_field, field_rows};
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
    let views: Vec<FieldView<'_>> = names
        .iter()
        .zip(fields)
        .enumerate()
        .map(|(i, (name, field))| field_view(model, rb, runbook, name, field, i == focus))
        .collect();
    let heights: Vec<u16> = views
        .iter()
        .map(|v| field_rows(v, inner, label_width))
        .collect();
    // Whole pages of fields, so the focused one is always on screen.
    let rows = inner.height.saturating_sub(2).max(FIELD_ROWS);
    let (first, end) = page_of(&heights, rows, focus);
    let mut cursor = None;
    let mut y = inner.y + 2;
    for i in first..end {
        if let Some(p) = draw_field(
            buf,
            &model.theme,
            inner,
            (y, heights[i]),
            label_width,
            &views[i],
        ) {
            cursor = Some(p);
        }
        y = y.saturating_add(heights[i]);
    }
    if first > 0 || end < names.len() {
        let (boxed, _, _) = crate::ui::layout::frame(area);
        widgets::more_marks(buf, boxed, &model.theme, first > 0, end < names.len());
    }
    cursor
}

/// The fields shown with `focus`: whole pages of fields that fit in `rows`, `(first, end)`.
fn page_of(heights: &[u16], rows: u16, focus: usize) -> (usize, usize) {
    let mut first = 0;
    loop {
        let mut used = 0u16;
        let mut end = first;
        while end < heights.len() && (end == first || used + heights[end] <= rows) {
            used = used.saturating_add(heights[end]);
            end += 1;
        }
        if focus < end || end >= heights.len() {
            return (first, end);
        }
        first = end;
    }
}

/// One field of the form: its label, text, and the line under it (the error, else the help).
fn field_view<'a>(
    model: &Model,
    rb: &'a crate::core::runbook::Runbook,
    runbook: &str,
    name: &'a str,
    field: &'a Field,
    focused: bool,
) -> FieldView<'a> {
    {
        let var = rb.variable(name);
        let error = field_error(model, runbook, name, field.value.trim());
        let note = match (&error, var) {
            // Only the bare prefix gets the hint; anything typed after it gets its real error.
            (Some(_), Some(v)) if v.ty == VarType::Mac && field.value.trim() == XEN_MAC_PREFIX => {
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
                    let set = model.secrets.contains_key(name);
                    help = format!(
                        "secret: masked, never saved{}  {help}",
                        if set {
                            " (set for this session, not saved)"
                        } else {
                            ""
                        }
                    );
                }
                (!help.trim().is_empty()).then(|| (help.trim().to_string(), false))
            }
            _ => None,
        };
        let label = var.map_or(name, |v| v.label.as_str());
        FieldView {
            label,
            field,
            masked: var.is_some_and(|v| v.ty == VarType::Secret),
            note,
            focused,
        }
    }
}
