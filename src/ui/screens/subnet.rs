//! The subnet tool's screens: the menu, the calculator (results follow the typing), the
//! article's CIDR table and the trainee quiz. All text is ASCII and fits 80 columns.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

use super::fields::{FIELD_ROWS, FieldView, draw_field};
use crate::core::net;
use crate::ui::keys::Scope;
use crate::ui::model::{Cursor, Field, Model, Quiz};
use crate::ui::text::wrap;
use crate::ui::update::subnet::MENU;
use crate::ui::widgets::{self, put};

/// The tool's menu.
pub fn draw_menu(model: &Model, cursor: Cursor, area: Rect, buf: &mut Buffer) {
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        "Subnet tool",
        "IP subnets and netmasks",
        Scope::Subnet,
        model.message.as_deref(),
    );
    for (i, entry) in MENU.iter().enumerate() {
        let y = inner.y + 1 + i as u16;
        if y >= inner.bottom() {
            break;
        }
        let selected = i == cursor.index;
        let style = if selected {
            model.theme.cursor()
        } else {
            Style::new()
        };
        put(
            buf,
            inner.x,
            y,
            if selected { ">" } else { " " },
            1,
            model.theme.emphasis(),
        );
        put(
            buf,
            inner.x + 2,
            y,
            entry,
            inner.width.saturating_sub(2),
            style,
        );
    }
    let y = inner.y + 2 + MENU.len() as u16;
    let intro = "A netmask is laid over an address bit by bit: where the mask has 1s the \
                 address must match for a host to be local; the 0s are the host part. \
                 Anything not local goes to the gateway.";
    for (i, l) in wrap(intro, usize::from(inner.width.saturating_sub(2)))
        .iter()
        .enumerate()
    {
        let row = y + i as u16;
        if row >= inner.bottom() {
            break;
        }
        put(
            buf,
            inner.x + 2,
            row,
            l,
            inner.width.saturating_sub(2),
            model.theme.quiet(),
        );
    }
}

/// `line` as is when it fits (keeping its column alignment), else word-wrapped.
fn fit(line: &str, width: usize) -> Vec<String> {
    if line.chars().count() <= width {
        vec![line.to_string()]
    } else {
        wrap(line, width)
    }
}

/// The result lines of the calculator for what is typed (errors included), wrapped.
pub fn calc_lines(fields: &[Field], width: usize) -> Vec<String> {
    let text = fields.first().map_or("", |f| f.value.trim());
    if text.is_empty() {
        return vec![
            "Type an address such as 192.168.1.10/24 or 192.168.1.10 255.255.255.0".into(),
        ];
    }
    let mut words = text.split_whitespace();
    let addr = words.next().unwrap_or("");
    let mask = words.next();
    let mut out = Vec::new();
    match net::calculate(addr, mask) {
        Err(e) => out.extend(wrap(&e, width)),
        Ok(net::Calculation::V6(s)) => {
            out.push(format!("Address     {}", s.address));
            out.push(format!("Prefix      /{}", s.prefix));
            out.push(format!("Network     {}", s.network));
            out.push(format!("Last        {}", s.last));
            out.push(format!("Addresses   {}", s.addresses));
            out.push("IPv6 has no broadcast address and no classes.".into());
        }
        Ok(net::Calculation::V4(s)) => {
            for l in net::report_lines(&s) {
                out.extend(fit(&l, width));
            }
            let other = fields.get(1).map_or("", |f| f.value.trim());
            if !other.is_empty() {
                out.push(String::new());
                match net::parse_addr4(other) {
                    Ok(b) => {
                        let r = net::same_subnet(&s, b);
                        let head = if r.same {
                            "LOCAL: "
                        } else {
                            "VIA THE GATEWAY: "
                        };
                        out.extend(wrap(&format!("{head}{}", r.explanation), width));
                    }
                    Err(e) => out.extend(wrap(&e, width)),
                }
            }
        }
    }
    out
}

/// The calculator; returns where the text cursor goes.
pub fn draw_calc(
    model: &Model,
    fields: &[Field],
    focus: usize,
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        "Subnet calculator",
        "",
        Scope::Form,
        model.message.as_deref(),
    );
    let labels = ["Address", "Compare"];
    let notes = [
        "address/prefix, address/netmask or address netmask",
        "optional: is this address local or behind the gateway?",
    ];
    let mut cursor = None;
    for (i, label) in labels.iter().enumerate() {
        let Some(field) = fields.get(i) else { break };
        let view = FieldView {
            label,
            field,
            masked: false,
            note: Some((notes[i].to_string(), false)),
            focused: i == focus,
        };
        let y = inner.y + i as u16 * FIELD_ROWS;
        if let Some(p) = draw_field(buf, &model.theme, inner, (y, FIELD_ROWS), 8, &view) {
            cursor = Some(p);
        }
    }
    let top = inner.y + 2 * FIELD_ROWS + 1;
    let h = usize::from(inner.bottom().saturating_sub(top));
    let lines = calc_lines(fields, usize::from(inner.width.saturating_sub(2)));
    let scroll = scroll.min(lines.len().saturating_sub(h));
    let rows = Rect {
        y: top,
        height: u16::try_from(h).unwrap_or(0),
        ..inner
    };
    widgets::text_rows(buf, rows, &lines, scroll, Style::new());
    widgets::scroll_marks(buf, area, &model.theme, scroll, h, lines.len());
    cursor
}

/// The CIDR table, its heading kept in view.
pub fn draw_table(model: &Model, scroll: usize, area: Rect, buf: &mut Buffer) {
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        "CIDR reference",
        "/32 to /0",
        Scope::Subnet,
        model.message.as_deref(),
    );
    let lines = net::table_lines();
    let w = inner.width.saturating_sub(1);
    if let Some(head) = lines.first() {
        put(buf, inner.x + 1, inner.y, head, w, model.theme.emphasis());
    }
    let rows = &lines[1.min(lines.len())..];
    let body = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let h = widgets::text_rows(buf, body, rows, scroll, Style::new());
    widgets::scroll_marks(buf, area, &model.theme, scroll, h, rows.len());
}

/// The quiz; returns where the text cursor goes.
pub fn draw_quiz(model: &Model, quiz: &Quiz, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        "Subnet practice",
        &format!("right {}/{}", quiz.score.0, quiz.score.1),
        Scope::Form,
        model.message.as_deref(),
    );
    let w = inner.width.saturating_sub(1);
    let q = &quiz.question;
    put(
        buf,
        inner.x + 1,
        inner.y,
        "Work out the network, the broadcast and the usable hosts of:",
        w,
        Style::new(),
    );
    put(
        buf,
        inner.x + 3,
        inner.y + 1,
        &format!("{}/{}   (netmask {})", q.address, q.prefix, q.netmask),
        w.saturating_sub(2),
        model.theme.emphasis(),
    );
    let labels = ["Network", "Broadcast", "Usable"];
    let verdicts = quiz
        .result
        .as_ref()
        .map(|r| [r.network_ok, r.broadcast_ok, r.usable_ok]);
    let answers = [
        q.network.to_string(),
        q.broadcast.to_string(),
        q.usable.to_string(),
    ];
    let mut cursor = None;
    for (i, label) in labels.iter().enumerate() {
        let Some(field) = quiz.fields.get(i) else {
            break;
        };
        let note = verdicts.map(|v| {
            if v[i] {
                ("right".to_string(), false)
            } else {
                (format!("wrong: it is {}", answers[i]), true)
            }
        });
        let view = FieldView {
            label,
            field,
            masked: false,
            note,
            focused: quiz.result.is_none() && i == quiz.focus,
        };
        let y = inner.y + 3 + i as u16 * FIELD_ROWS;
        if let Some(p) = draw_field(buf, &model.theme, inner, (y, FIELD_ROWS), 9, &view) {
            cursor = Some(p);
        }
    }
    let top = inner.y + 3 + 3 * FIELD_ROWS;
    if let Some(r) = &quiz.result {
        let mut lines = Vec::new();
        for l in &r.explanation {
            lines.extend(fit(l, usize::from(w)));
        }
        lines.push("Enter: next question   Esc: back".into());
        for (i, l) in lines.iter().enumerate() {
            let y = top + i as u16;
            if y >= inner.bottom() {
                break;
            }
            put(buf, inner.x + 1, y, l, w, Style::new());
        }
    } else if top < inner.bottom() {
        put(
            buf,
            inner.x + 1,
            top,
            "Enter checks the answers (Tab moves between them).",
            w,
            model.theme.quiet(),
        );
    }
    cursor
}
