//! The shared frame every screen uses: a bordered box with the title in its top border and one
//! hint line under it. `update` uses the same numbers to know how far a page scrolls.

use ratatui::layout::Rect;

/// Rows a page holds inside the standard frame (border top and bottom, hint line).
pub fn page(size: (u16, u16)) -> usize {
    usize::from(size.1.saturating_sub(3)).max(1)
}

/// Columns available for wrapped text inside the frame (borders and a one-column margin).
pub fn text_width(size: (u16, u16)) -> usize {
    usize::from(size.0.saturating_sub(4)).max(1)
}

/// Rows of text the help box shows.
pub fn help_page(size: (u16, u16)) -> usize {
    usize::from(
        help_area(Rect::new(0, 0, size.0, size.1))
            .height
            .saturating_sub(2),
    )
    .max(1)
}

/// The standard frame: (box, inside of the box, hint line).
pub fn frame(area: Rect) -> (Rect, Rect, Rect) {
    let boxed = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let inner = Rect {
        x: boxed.x.saturating_add(1),
        y: boxed.y.saturating_add(1),
        width: boxed.width.saturating_sub(2),
        height: boxed.height.saturating_sub(2),
    };
    let hint = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    (boxed, inner, hint)
}

/// A box of at most `w` x `h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Where the help overlay goes.
pub fn help_area(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(4).min(76),
        area.height.saturating_sub(2),
    )
}
