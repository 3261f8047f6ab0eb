//! The terminal sizes every screen is drawn at by the "no panic at any size" tests: all of 1..=20
//! in each dimension (where layout arithmetic is tight), a grid up to 300x100 with the extremes,
//! and a pseudo-random sequence of rapid resizes (0x0 included) applied to one live model.

/// Sizes (cols, rows) for the sweep.
pub fn grid() -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for w in 1..=20 {
        for h in 1..=20 {
            out.push((w, h));
        }
        for h in [24, 50, 99, 100] {
            out.push((w, h));
        }
    }
    for h in 1..=20 {
        for w in [80, 150, 299, 300] {
            out.push((w, h));
        }
    }
    for w in (21..=300).step_by(23).chain([300]) {
        for h in (21..=100).step_by(11).chain([100]) {
            out.push((w, h));
        }
    }
    out
}

/// A deterministic sequence of `n` sizes jumping between tiny, normal and huge, as a window
/// being dragged or a serial console re-sized by `stty` produces them.
pub fn rapid(n: usize) -> Vec<(u16, u16)> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    (0..n)
        .map(|i| match i % 5 {
            0 => (next(4) as u16, next(4) as u16),
            1 => (1 + next(300) as u16, 1 + next(100) as u16),
            2 => (80, 24),
            3 => (1 + next(20) as u16, 1 + next(20) as u16),
            _ => (300 - next(3) as u16, 100 - next(3) as u16),
        })
        .collect()
}
