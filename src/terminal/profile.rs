//! What this terminal can take, decided once at start-up from TERM, the locale, the size sources
//! and the flags: size, glyph set, colour and which SGR codes are safe. Pure, so every rule is a
//! table test.

use std::fmt;

/// Smallest size the screens are laid out for; below it only a "too small" line is drawn.
pub const MIN_COLS: u16 = 40;
/// See [`MIN_COLS`].
pub const MIN_ROWS: u16 = 12;

/// Where the working size came from, reported so a technician can tell why the frame is 80x24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeSource {
    /// `--size COLSxROWS`.
    Flag,
    /// The kernel (TIOCGWINSZ), both values above zero.
    Kernel,
    /// `COLUMNS` / `LINES`.
    Env,
    /// Nothing usable: 80x24.
    Default,
}

impl SizeSource {
    /// Short word for the help overlay and `--version --verbose`.
    pub fn name(self) -> &'static str {
        match self {
            SizeSource::Flag => "--size",
            SizeSource::Kernel => "kernel",
            SizeSource::Env => "COLUMNS/LINES",
            SizeSource::Default => "default",
        }
    }
}

/// A resolved terminal size and its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
    /// Which source won.
    pub source: SizeSource,
}

impl fmt::Display for ResolvedSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{} ({})", self.cols, self.rows, self.source.name())
    }
}

/// Parses `COLSxROWS` as given to `--size`; both values must be above zero.
pub fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("--size '{text}': expected COLSxROWS such as 80x24, both above zero");
    let (c, r) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let cols: u16 = c.trim().parse().map_err(|_| bad())?;
    let rows: u16 = r.trim().parse().map_err(|_| bad())?;
    if cols == 0 || rows == 0 {
        return Err(bad());
    }
    Ok((cols, rows))
}

fn positive(value: Option<&str>) -> Option<u16> {
    value
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|v| *v > 0)
}

/// Resolves the size: the flag, then the kernel when both values are above zero (a serial line
/// reports 0x0 and crossterm passes that through), then `COLUMNS`/`LINES` (each on its own,
/// the other defaulting), then 80x24.
pub fn resolve_size(
    flag: Option<&str>,
    kernel: Option<(u16, u16)>,
    columns: Option<&str>,
    lines: Option<&str>,
) -> Result<ResolvedSize, String> {
    if let Some(text) = flag {
        let (cols, rows) = parse_size(text)?;
        return Ok(ResolvedSize {
            cols,
            rows,
            source: SizeSource::Flag,
        });
    }
    if let Some((cols, rows)) = kernel.filter(|(c, r)| *c > 0 && *r > 0) {
        return Ok(ResolvedSize {
            cols,
            rows,
            source: SizeSource::Kernel,
        });
    }
    let (c, r) = (positive(columns), positive(lines));
    if c.is_some() || r.is_some() {
        return Ok(ResolvedSize {
            cols: c.unwrap_or(80),
            rows: r.unwrap_or(24),
            source: SizeSource::Env,
        });
    }
    Ok(ResolvedSize {
        cols: 80,
        rows: 24,
        source: SizeSource::Default,
    })
}

/// Which characters may be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlyphSet {
    /// Printable ASCII only (`+-|`, `#`): vt100-class terminals, non-UTF-8 locales, serial.
    Ascii,
    /// The old PC (CP437) subset a Linux console font always has: single box lines and shades.
    Cp437,
    /// Full Unicode line drawing.
    Unicode,
}

impl GlyphSet {
    /// Word for reports.
    pub fn name(self) -> &'static str {
        match self {
            GlyphSet::Ascii => "ascii",
            GlyphSet::Cp437 => "cp437 (linux console)",
            GlyphSet::Unicode => "unicode",
        }
    }
}

/// How much colour to use. The screens are designed monochrome first; colour only adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// No colour at all: reverse video, bold and text markers carry every meaning.
    Mono,
    /// The 8 basic ANSI colours (linux console, screen, xterm).
    Basic8,
}

/// Which SGR parameters the terminal is known to understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgrSet {
    /// A real VT100 knows 0/1/4/5/7 only: attributes are turned off by resetting with 0 and
    /// re-applying the ones that stay.
    Vt100,
    /// ECMA-48: 22/23/24/25/27 turn single attributes off, 39/49 reset colours.
    Ecma48,
}

/// Everything the drawing code needs to know about the terminal, with the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The value of TERM (empty when unset).
    pub term: String,
    /// Characters allowed.
    pub glyphs: GlyphSet,
    /// Why that glyph set (for reports).
    pub glyphs_reason: String,
    /// Colour use.
    pub color: ColorMode,
    /// Why that colour mode.
    pub color_reason: String,
    /// SGR codes allowed.
    pub sgr: SgrSet,
    /// Whether the terminal has an alternate screen (terminfo `smcup`): vt100-class and the
    /// Linux console do not, so fieldbook draws in the main screen there.
    pub alt_screen: bool,
}

/// The environment values the profile depends on, captured once so detection is pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermEnv {
    /// `TERM`.
    pub term: Option<String>,
    /// `LC_ALL`.
    pub lc_all: Option<String>,
    /// `LC_CTYPE`.
    pub lc_ctype: Option<String>,
    /// `LANG`.
    pub lang: Option<String>,
    /// `NO_COLOR` (any non-empty value means no colour, per no-color.org).
    pub no_color: Option<String>,
}

impl TermEnv {
    /// Reads the variables from the process environment.
    pub fn from_process() -> TermEnv {
        let get = |k: &str| std::env::var(k).ok();
        TermEnv {
            term: get("TERM"),
            lc_all: get("LC_ALL"),
            lc_ctype: get("LC_CTYPE"),
            lang: get("LANG"),
            no_color: get("NO_COLOR"),
        }
    }

    /// The first set of LC_ALL, LC_CTYPE, LANG names UTF-8 (as htop and POSIX decide it).
    pub fn utf8_locale(&self) -> bool {
        [&self.lc_all, &self.lc_ctype, &self.lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty())
            .is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("utf-8") || v.contains("utf8")
            })
    }
}

/// The flags that override detection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileFlags {
    /// `--ascii`.
    pub ascii: bool,
    /// `--unicode`.
    pub unicode: bool,
    /// `--no-color`.
    pub no_color: bool,
}

fn is_vt_class(term: &str) -> bool {
    matches!(term, "vt100" | "vt102" | "vt220" | "dumb") || term.starts_with("vt100-")
}

/// Decides the profile from TERM, the locale, NO_COLOR and the flags.
pub fn detect(env: &TermEnv, flags: ProfileFlags) -> Profile {
    let term = env.term.clone().unwrap_or_default();
    let vt = is_vt_class(&term) || term.is_empty();
    let linux = term == "linux";
    let (glyphs, glyphs_reason) = if flags.ascii {
        (GlyphSet::Ascii, "--ascii".to_string())
    } else if flags.unicode {
        let set = if linux {
            GlyphSet::Cp437
        } else {
            GlyphSet::Unicode
        };
        (set, "--unicode".to_string())
    } else if vt {
        (GlyphSet::Ascii, format!("TERM={term}"))
    } else if !env.utf8_locale() {
        (GlyphSet::Ascii, "locale is not UTF-8".to_string())
    } else if linux {
        (GlyphSet::Cp437, "TERM=linux".to_string())
    } else {
        (GlyphSet::Unicode, "UTF-8 locale".to_string())
    };
    let (color, color_reason) = if flags.no_color {
        (ColorMode::Mono, "--no-color".to_string())
    } else if env.no_color.as_deref().is_some_and(|v| !v.is_empty()) {
        (ColorMode::Mono, "NO_COLOR".to_string())
    } else if vt {
        (ColorMode::Mono, format!("TERM={term} has no colour"))
    } else {
        (ColorMode::Basic8, format!("TERM={term}: 8 colours"))
    };
    let sgr = if vt { SgrSet::Vt100 } else { SgrSet::Ecma48 };
    let alt_screen = !(vt || linux);
    Profile {
        alt_screen,
        term,
        glyphs,
        glyphs_reason,
        color,
        color_reason,
        sgr,
    }
}

/// How long the rest of a key sequence split by a slow line may take by default: whiptail joins
/// pieces up to 300 ms apart. An Esc alone takes effect after this wait.
pub const ESC_DELAY_MS: u64 = 300;

/// The default wait under `--low-bandwidth`, where GNU screen and a 9600-baud line hold bytes
/// longest (ncurses waits its ESCDELAY, 1000 ms by default).
pub const ESC_DELAY_LOW_BANDWIDTH_MS: u64 = 1000;

/// The wait for the rest of a split escape sequence: `--esc-delay` / `FIELDBOOK_ESCDELAY` when
/// given, else the default for the link.
pub fn esc_delay(flag: Option<u64>, low_bandwidth: bool) -> std::time::Duration {
    let ms = flag.unwrap_or(if low_bandwidth {
        ESC_DELAY_LOW_BANDWIDTH_MS
    } else {
        ESC_DELAY_MS
    });
    std::time::Duration::from_millis(ms)
}

/// Whether to draw in the alternate screen, and why (for `--version --verbose`). GNU screen
/// (`STY` set) ignores the alternate screen unless `altscreen on` is in its configuration, so
/// there it is used only when asked for with `--alt-screen`.
pub fn use_alt_screen(
    term_has_it: bool,
    no_alt_screen: bool,
    alt_screen: bool,
    in_gnu_screen: bool,
) -> (bool, &'static str) {
    if no_alt_screen {
        (false, "main (--no-alt-screen)")
    } else if !term_has_it {
        (false, "main (this TERM has no alternate screen)")
    } else if alt_screen {
        (true, "alternate (--alt-screen)")
    } else if in_gnu_screen {
        (
            false,
            "main (GNU screen ignores the alternate screen without altscreen on; --alt-screen uses it)",
        )
    } else {
        (true, "alternate")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_delay_defaults_and_flag() {
        use std::time::Duration;
        assert_eq!(esc_delay(None, false), Duration::from_millis(300));
        assert_eq!(esc_delay(None, true), Duration::from_millis(1000));
        assert_eq!(esc_delay(Some(25), true), Duration::from_millis(25));
    }

    #[test]
    fn gnu_screen_gets_the_main_screen_unless_asked() {
        assert!(!use_alt_screen(true, false, false, true).0);
        assert!(use_alt_screen(true, false, true, true).0);
        assert!(use_alt_screen(true, false, false, false).0);
        assert!(!use_alt_screen(false, false, true, false).0);
        assert!(!use_alt_screen(true, true, false, false).0);
    }

    fn env(term: &str, lang: &str) -> TermEnv {
        TermEnv {
            term: Some(term.into()),
            lang: Some(lang.into()),
            ..TermEnv::default()
        }
    }

    #[test]
    fn size_fallback_chain() {
        let r = |f, k, c, l| resolve_size(f, k, c, l).unwrap();
        let flag = r(Some("100x30"), Some((80, 24)), None, None);
        assert_eq!(
            (flag.cols, flag.rows, flag.source),
            (100, 30, SizeSource::Flag)
        );
        let k = r(None, Some((120, 40)), Some("90"), Some("20"));
        assert_eq!((k.cols, k.rows, k.source), (120, 40, SizeSource::Kernel));
        for kernel in [Some((0, 0)), Some((0, 24)), Some((80, 0)), None] {
            let e = r(None, kernel, Some("100"), Some("30"));
            assert_eq!((e.cols, e.rows, e.source), (100, 30, SizeSource::Env));
            let d = r(None, kernel, None, Some("0"));
            assert_eq!((d.cols, d.rows, d.source), (80, 24, SizeSource::Default));
        }
        let half = r(None, Some((0, 0)), Some("132"), None);
        assert_eq!((half.cols, half.rows), (132, 24));
        assert_eq!(r(None, None, Some("x"), None).source, SizeSource::Default);
    }

    #[test]
    fn bad_size_flag_is_an_error() {
        for bad in ["", "80", "0x24", "80x0", "axb", "80x24x1", "-1x5"] {
            assert!(resolve_size(Some(bad), None, None, None).is_err(), "{bad}");
        }
        assert_eq!(parse_size(" 132X43 ").unwrap(), (132, 43));
    }

    #[test]
    fn vt_class_terminals_get_ascii_mono_vt100_sgr() {
        for t in ["vt100", "vt102", "vt220", "dumb"] {
            let p = detect(&env(t, "en_US.UTF-8"), ProfileFlags::default());
            assert_eq!(p.glyphs, GlyphSet::Ascii, "{t}");
            assert_eq!(p.color, ColorMode::Mono, "{t}");
            assert_eq!(p.sgr, SgrSet::Vt100, "{t}");
            assert!(!p.alt_screen, "{t}");
        }
    }

    #[test]
    fn locale_and_linux_console() {
        let d = ProfileFlags::default();
        assert_eq!(detect(&env("xterm", "C"), d).glyphs, GlyphSet::Ascii);
        assert_eq!(
            detect(&env("xterm", "en_GB.utf8"), d).glyphs,
            GlyphSet::Unicode
        );
        let linux = detect(&env("linux", "C.UTF-8"), d);
        assert_eq!(
            (linux.glyphs, linux.color),
            (GlyphSet::Cp437, ColorMode::Basic8)
        );
        assert!(!linux.alt_screen);
        let screen = detect(&env("screen", "C.UTF-8"), d);
        assert!(screen.alt_screen);
        assert_eq!(
            (screen.glyphs, screen.color),
            (GlyphSet::Unicode, ColorMode::Basic8)
        );
        // LC_ALL wins over LANG.
        let mut e = env("xterm", "en_US.UTF-8");
        e.lc_all = Some("C".into());
        assert_eq!(detect(&e, d).glyphs, GlyphSet::Ascii);
    }

    #[test]
    fn flags_and_no_color_override() {
        let ascii = ProfileFlags {
            ascii: true,
            ..Default::default()
        };
        assert_eq!(
            detect(&env("xterm", "C.UTF-8"), ascii).glyphs,
            GlyphSet::Ascii
        );
        let uni = ProfileFlags {
            unicode: true,
            ..Default::default()
        };
        assert_eq!(detect(&env("vt100", "C"), uni).glyphs, GlyphSet::Unicode);
        assert_eq!(detect(&env("linux", "C"), uni).glyphs, GlyphSet::Cp437);
        let mut e = env("xterm", "C.UTF-8");
        e.no_color = Some("1".into());
        assert_eq!(detect(&e, ProfileFlags::default()).color, ColorMode::Mono);
        e.no_color = Some(String::new());
        assert_eq!(detect(&e, ProfileFlags::default()).color, ColorMode::Basic8);
        let nc = ProfileFlags {
            no_color: true,
            ..Default::default()
        };
        assert_eq!(detect(&env("xterm", "C.UTF-8"), nc).color, ColorMode::Mono);
    }
}
