//! Turning byte offsets into the `LINE:COL` positions a person fixing a runbook file needs.

/// A 1-based line and column in a text file, the way editors and compilers count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes) so it matches what an editor shows.
    pub col: usize,
}

impl LineCol {
    /// Locates `offset` (a byte offset, as serde/toml spans give) inside `source`.
    /// Offsets past the end are clamped, so a span from a truncated file still points somewhere.
    pub fn of(source: &str, offset: usize) -> LineCol {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = source[line_start..offset].chars().count() + 1;
        LineCol { line, col }
    }
}

impl std::fmt::Display for LineCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_byte_is_one_one() {
        assert_eq!(LineCol::of("abc", 0), LineCol { line: 1, col: 1 });
    }

    #[test]
    fn counts_lines_and_characters() {
        let src = "a = 1\nbé = 2\n";
        // the '=' on line 2 is after 'b', 'é', ' '
        let eq = src.rfind('=').unwrap_or(0);
        assert_eq!(LineCol::of(src, eq), LineCol { line: 2, col: 4 });
    }

    #[test]
    fn clamps_past_end_and_inside_a_character() {
        let src = "é";
        assert_eq!(LineCol::of(src, 1), LineCol { line: 1, col: 1 });
        assert_eq!(LineCol::of(src, 99), LineCol { line: 1, col: 2 });
    }
}
