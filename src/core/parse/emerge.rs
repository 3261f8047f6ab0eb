//! Reads `emerge --pretend` output into the packages a merge would bring in, so the technician
//! sees "3 packages: 1 upgrade, 2 new" before committing hours to the real world update.
//!
//! Each package is one line `[ebuild  N     ] category/name-version[::repo] [old] USE="..." `,
//! with the status letters in a fixed-width column (`N` new, `S` new slot, `U` update, `D`
//! downgrade, `R` replace, `F`/`f` fetch restriction, `I` interactive, `B`/`b` blocked, `#` masked,
//! `*`/`~` keyword). `--color y` wraps parts of the line in SGR sequences; they are removed first.

use super::strip_ansi;

/// What emerge would do with one package, read from its status letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// Not installed yet (`N`).
    New,
    /// Installed in another slot; this adds a slot (`NS`).
    NewSlot,
    /// Replaces an older version (`U`).
    Upgrade,
    /// Replaces a newer version (`UD`): worth a second look.
    Downgrade,
    /// Rebuilds the installed version, usually for changed USE flags (`R`).
    Reinstall,
    /// Any other combination; the letters are in [`PlannedMerge::flags`].
    Other,
}

/// One package line of `emerge --pretend`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMerge {
    /// Where it comes from: `ebuild` (built from source) or `binary` (a binary package).
    pub origin: String,
    /// The status letters, spaces removed (`N`, `U`, `R`, `NS`, `UD`, ...).
    pub flags: String,
    /// What the letters mean for the technician.
    pub kind: MergeKind,
    /// The category (`app-misc`).
    pub category: String,
    /// The package name (`hello`).
    pub name: String,
    /// The version with any revision (`1.1`, `13.2.1_p20240113-r1`).
    pub version: String,
    /// The repository, when `--verbose` printed it (`gentoo`).
    pub repo: Option<String>,
    /// The version being replaced, for an update or downgrade.
    pub replaces: Option<String>,
    /// The `USE="..."` flags as printed (`color -doc`, `doc*`), when there were any.
    pub use_flags: Option<String>,
}

impl PlannedMerge {
    /// `category/name-version`, the way emerge and the technician write a package.
    pub fn atom(&self) -> String {
        format!("{}/{}-{}", self.category, self.name, self.version)
    }
}

/// Everything `emerge --pretend` said it would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pretend {
    /// Packages to merge, in emerge's order.
    pub merges: Vec<PlannedMerge>,
    /// `[blocks ...]` lines (the text after the status column): a merge that stops on them.
    pub blockers: Vec<String>,
    /// `[uninstall ...]` lines: packages a merge would remove.
    pub uninstalls: Vec<String>,
    /// Lines that looked like package lines but could not be read; shown, never guessed at.
    pub unreadable: Vec<String>,
}

impl Pretend {
    /// How many planned merges are of `kind`.
    pub fn count(&self, kind: MergeKind) -> usize {
        self.merges.iter().filter(|m| m.kind == kind).count()
    }
}

/// Parses the (stdout) text of `emerge --pretend ...`, with or without `--verbose`, `--tree` or
/// colour. Never panics; text that is not a package line is ignored unless it starts with `[`
/// and an origin word, in which case it lands in [`Pretend::unreadable`].
pub fn parse_pretend(text: &str) -> Pretend {
    let plain = strip_ansi(text);
    let mut out = Pretend::default();
    for raw in plain.lines() {
        let line = raw.trim();
        let Some(inner_end) = line.strip_prefix('[').and_then(|rest| rest.find(']')) else {
            continue;
        };
        let column = &line[1..1 + inner_end];
        let rest = line[inner_end + 2..].trim();
        let mut words = column.split_whitespace();
        let origin = words.next().unwrap_or("");
        let flags: String = words.collect();
        match origin {
            "ebuild" | "binary" => match read_package(origin, &flags, rest) {
                Some(m) => out.merges.push(m),
                None => out.unreadable.push(line.to_string()),
            },
            "blocks" => out.blockers.push(rest.to_string()),
            "uninstall" => out.uninstalls.push(rest.to_string()),
            // `[nomerge ]` lines of --tree are already installed; anything else (emerge --search
            // prints "[ Results for ... ]") is not a package line.
            _ => {}
        }
    }
    out
}

fn kind_of(flags: &str) -> MergeKind {
    let has = |c| flags.contains(c);
    if has('N') && has('S') {
        MergeKind::NewSlot
    } else if has('N') {
        MergeKind::New
    } else if has('U') && has('D') {
        MergeKind::Downgrade
    } else if has('U') {
        MergeKind::Upgrade
    } else if has('R') {
        MergeKind::Reinstall
    } else {
        MergeKind::Other
    }
}

fn read_package(origin: &str, flags: &str, rest: &str) -> Option<PlannedMerge> {
    let (atom, mut tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let (cpv, repo) = match atom.split_once("::") {
        Some((cpv, repo)) if !repo.is_empty() => (cpv, Some(repo.to_string())),
        Some(_) => return None,
        None => (atom, None),
    };
    let (category, pvr) = cpv.split_once('/')?;
    let (name, version) = split_version(pvr)?;
    if !is_word(category) || !is_word(name) || pvr.contains('/') {
        return None;
    }
    tail = tail.trim_start();
    let mut replaces = None;
    if let Some(after) = tail.strip_prefix('[') {
        let end = after.find(']')?;
        let old = &after[..end];
        replaces = Some(old.split_once("::").map_or(old, |(v, _)| v).to_string());
        tail = after[end + 1..].trim_start();
    }
    Some(PlannedMerge {
        origin: origin.to_string(),
        flags: flags.to_string(),
        kind: kind_of(flags),
        category: category.to_string(),
        name: name.to_string(),
        version: version.to_string(),
        repo,
        replaces,
        use_flags: quoted_value(tail, "USE"),
    })
}

/// Splits `name-1.2.3-r1` into (`name`, `1.2.3-r1`): the version starts at the last `-` that is
/// followed by a digit, once an `-rN` revision has been set aside.
fn split_version(pvr: &str) -> Option<(&str, &str)> {
    let without_rev = match pvr.rfind("-r") {
        Some(i)
            if i > 0 && pvr[i + 2..].chars().all(|c| c.is_ascii_digit()) && pvr.len() > i + 2 =>
        {
            &pvr[..i]
        }
        _ => pvr,
    };
    let at = without_rev
        .match_indices('-')
        .map(|(i, _)| i)
        .rfind(|&i| without_rev[i + 1..].starts_with(|c: char| c.is_ascii_digit()))?;
    let (name, version) = (&pvr[..at], &pvr[at + 1..]);
    (!name.is_empty()).then_some((name, version))
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'))
}

/// The value of `KEY="..."` in the rest of a package line, quotes removed.
fn quoted_value(tail: &str, key: &str) -> Option<String> {
    let needle = format!("{key}=\"");
    let start = tail
        .match_indices(&needle)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || tail[..i].ends_with(' '))?
        + needle.len();
    let len = tail[start..].find('"')?;
    Some(tail[start..start + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSCRIPT: &str = include_str!("../../../tests/fixtures/real-output/emerge.txt");

    /// The stdout of the `nth` run of `command` in the transcript.
    fn stdout(command: &str, nth: usize) -> String {
        let header = format!("$ {command}\n[stdout]\n");
        let start = TRANSCRIPT
            .match_indices(&header)
            .nth(nth)
            .map(|(i, _)| i + header.len())
            .expect("command in transcript");
        let len = TRANSCRIPT[start..]
            .find("[stderr]\n")
            .expect("stderr marker");
        TRANSCRIPT[start..start + len].to_string()
    }

    fn summary(p: &Pretend) -> Vec<(String, MergeKind, Option<String>, Option<String>)> {
        p.merges
            .iter()
            .map(|m| (m.atom(), m.kind, m.replaces.clone(), m.use_flags.clone()))
            .collect()
    }

    #[test]
    fn reads_the_real_world_update_preview() {
        let p = parse_pretend(&stdout(
            "emerge --pretend --update --deep --newuse @world",
            0,
        ));
        assert_eq!(
            summary(&p),
            vec![
                ("sys-apps/tinytool-0.5".into(), MergeKind::New, None, None),
                (
                    "app-misc/hello-1.1".into(),
                    MergeKind::Upgrade,
                    Some("1.0".into()),
                    None
                ),
                (
                    "app-misc/greeter-2.0".into(),
                    MergeKind::New,
                    None,
                    Some("color -doc".into())
                ),
            ]
        );
        assert!(p.unreadable.is_empty() && p.blockers.is_empty());
        assert_eq!(p.merges[1].origin, "ebuild");
        assert_eq!(p.merges[1].flags, "U");
        assert_eq!(p.merges[1].repo, None);
        assert_eq!(p.count(MergeKind::New), 2);
    }

    #[test]
    fn reads_the_verbose_preview_with_repositories() {
        let p = parse_pretend(&stdout(
            "emerge --pretend --verbose --update --deep --newuse @world",
            0,
        ));
        assert_eq!(p.merges.len(), 3);
        assert_eq!(p.merges[1].repo.as_deref(), Some("localrepo"));
        assert_eq!(p.merges[1].replaces.as_deref(), Some("1.0"));
        assert_eq!(p.merges[2].use_flags.as_deref(), Some("color -doc"));
    }

    #[test]
    fn nothing_to_do_and_use_changes() {
        let empty = parse_pretend(&stdout(
            "emerge --pretend --update --deep --newuse @world",
            1,
        ));
        assert_eq!(empty, Pretend::default());
        let r = parse_pretend(&stdout(
            "emerge --pretend --update --deep --newuse @world",
            2,
        ));
        assert_eq!(
            summary(&r),
            vec![(
                "app-misc/greeter-2.0".into(),
                MergeKind::Reinstall,
                None,
                Some("doc*".into())
            )]
        );
    }

    #[test]
    fn coloured_lines_parse_the_same() {
        // Recorded from the real emerge 3.0.83 with `--color y` (scripts/acceptance-setup.sh).
        let text = "\n\u{1b}[32mThese are the packages that would be merged, in order:\u{1b}[39;49;00m\n\n\
            [\u{1b}[32mebuild\u{1b}[39;49;00m  \u{1b}[32;01mN\u{1b}[39;49;00m     ] \
            \u{1b}[32msys-apps/tinytool-0.5\u{1b}[39;49;00m \n\
            [\u{1b}[32mebuild\u{1b}[39;49;00m     \u{1b}[36;01mU\u{1b}[39;49;00m  ] \
            \u{1b}[32mapp-misc/hello-1.1\u{1b}[39;49;00m \u{1b}[34;01m[1.0]\u{1b}[39;49;00m\n\
            [\u{1b}[32;01mebuild\u{1b}[39;49;00m  \u{1b}[32;01mN\u{1b}[39;49;00m     ] \
            \u{1b}[32;01mapp-misc/greeter-2.0\u{1b}[39;49;00m  USE=\"\u{1b}[31;01mcolor\u{1b}[39;49;00m \
            \u{1b}[34;01m-doc\u{1b}[39;49;00m\" \n";
        let plain = stdout("emerge --pretend --update --deep --newuse @world", 0);
        assert_eq!(parse_pretend(text).merges, parse_pretend(&plain).merges);
    }

    #[test]
    fn versions_revisions_slots_blockers_and_binaries() {
        let text = "[ebuild  NS    ] sys-devel/gcc-13.2.1_p20240113-r1 [12.3.1_p20230526]\n\
                    [ebuild     UD ] dev-lang/perl-5.36.0-r2 [5.38.2]\n\
                    [binary   R    ] x11-libs/gtk+-3.24.41::gentoo  USE=\"X -wayland\" 0 KiB\n\
                    [blocks B      ] <sys-apps/foo-1 (\"<sys-apps/foo-1\" is blocking sys-apps/bar-2)\n\
                    [uninstall     ] sys-apps/foo-0.9\n\
                    [ebuild  N     ] not-an-atom\n\
                    [ Results for search key : hello ]\n";
        let p = parse_pretend(text);
        assert_eq!(
            p.merges
                .iter()
                .map(|m| (m.name.as_str(), m.version.as_str(), m.kind))
                .collect::<Vec<_>>(),
            vec![
                ("gcc", "13.2.1_p20240113-r1", MergeKind::NewSlot),
                ("perl", "5.36.0-r2", MergeKind::Downgrade),
                ("gtk+", "3.24.41", MergeKind::Reinstall),
            ]
        );
        assert_eq!(p.merges[2].origin, "binary");
        assert_eq!(p.merges[2].use_flags.as_deref(), Some("X -wayland"));
        assert_eq!(p.blockers.len(), 1);
        assert_eq!(p.uninstalls, vec!["sys-apps/foo-0.9".to_string()]);
        assert_eq!(
            p.unreadable,
            vec!["[ebuild  N     ] not-an-atom".to_string()]
        );
    }

    #[test]
    fn split_version_edge_cases() {
        assert_eq!(split_version("foo-1"), Some(("foo", "1")));
        assert_eq!(
            split_version("foo-bar-2.0-r10"),
            Some(("foo-bar", "2.0-r10"))
        );
        assert_eq!(split_version("font-3dfoo-1.0"), Some(("font-3dfoo", "1.0")));
        assert_eq!(split_version("foo"), None);
        assert_eq!(split_version("-1"), None);
        assert_eq!(split_version("foo-r1"), None);
    }

    #[test]
    fn never_panics_on_garbage() {
        for text in [
            "[",
            "[]",
            "[ebuild",
            "[ebuild ]",
            "[ebuild N ] a/b-1::",
            "[ebuild N ] a/b-1 [",
            "[ebuild N ] a/b-1 USE=\"x",
            "[ebuild N ] /-1",
            "[ebuild N ] é/ü-1 [1] USE=\"\"",
            "\u{1b}[ebuild N ] a/b-1",
        ] {
            let _ = parse_pretend(text);
        }
        let sample = stdout(
            "emerge --pretend --verbose --update --deep --newuse @world",
            0,
        );
        for cut in 0..sample.len() {
            if sample.is_char_boundary(cut) {
                let _ = parse_pretend(&sample[..cut]);
            }
        }
    }
}
