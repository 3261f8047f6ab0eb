//! The bad snort rules (ClearOS): the article's list of false-positive SIDs as data, a scanner
//! that finds each `sid:N;` in the rules directory, and the edits that comment a rule out or
//! back in. The edits go through the edit engine (diff, backup, undo) like any runbook edit.
//!
//! Technicians add their own SIDs in `<state-dir>/snort-sids.toml` (same format as
//! `assets/snort-sids.toml`); the state directory is per machine, like the rules themselves.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::datafile::{self, DataFileError};
use super::runbook::{Edit, EditAction};

const ARTICLE_SIDS: &str = include_str!("../../assets/snort-sids.toml");

/// Where ClearOS keeps the rules: the current path first, then the former one.
pub const RULE_DIRS: [&str; 2] = [
    "/var/lib/suva/services/intrusion-protection/rules",
    "/var/lib/suva/services/snort/rules",
];

/// The command that makes snort re-read its rules.
pub const RESTART: [&str; 2] = ["/etc/init.d/snort", "restart"];

/// The technicians' own SIDs, in the state directory.
pub const USER_FILE: &str = "snort-sids.toml";

/// Where a SID on the list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SidSource {
    /// The runbook article.
    Article,
    /// A technician's own file.
    User,
}

/// One rule on the list, with the reason to disable it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadSid {
    /// The rule's `sid`.
    pub sid: u64,
    /// Why it is on the list.
    pub reason: String,
    /// Where the entry came from.
    pub source: SidSource,
    /// The source is not sure the rule is bad everywhere ("may be a bad one for me only"):
    /// listed and offered, but an exported playbook leaves it alone unless asked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maybe: bool,
}

/// One `[[rule]]` of a SID file, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    sid: u64,
    reason: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    maybe: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SidFile {
    #[serde(default)]
    rule: Vec<FileRule>,
}

fn read_sid_file(text: &str, file: &str, source: SidSource) -> Result<Vec<BadSid>, DataFileError> {
    Ok(datafile::from_toml::<SidFile>(text, file)?
        .rule
        .into_iter()
        .map(|r| BadSid {
            sid: r.sid,
            reason: r.reason,
            source,
            maybe: r.maybe,
        })
        .collect())
}

fn located(file: &Path, message: String) -> DataFileError {
    DataFileError {
        file: file.display().to_string(),
        at: super::location::LineCol { line: 1, col: 1 },
        message,
    }
}

/// The article's SIDs.
pub fn article_sids() -> Result<Vec<BadSid>, DataFileError> {
    read_sid_file(ARTICLE_SIDS, "builtin:snort-sids.toml", SidSource::Article)
}

/// The article's SIDs followed by the technicians' own from `user_file` (missing is fine).
/// A user entry for a SID already listed replaces that entry's reason.
pub fn load_sids(user_file: Option<&Path>) -> Result<Vec<BadSid>, DataFileError> {
    let mut sids = article_sids()?;
    if let Some(path) = user_file {
        for entry in read_user_file(path)? {
            match sids.iter_mut().find(|s| s.sid == entry.sid) {
                Some(existing) => *existing = entry,
                None => sids.push(entry),
            }
        }
    }
    Ok(sids)
}

fn read_user_file(path: &Path) -> Result<Vec<BadSid>, DataFileError> {
    match std::fs::read(path) {
        Ok(bytes) => read_sid_file(
            &String::from_utf8_lossy(&bytes),
            &path.display().to_string(),
            SidSource::User,
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(located(path, e.to_string())),
    }
}

/// Adds (or re-words) a technician's SID in `user_file`, written atomically. A file that does
/// not parse is left alone and reported, never overwritten.
pub fn add_user_sid(user_file: &Path, sid: u64, reason: &str) -> Result<(), DataFileError> {
    let mut rules: Vec<FileRule> = read_user_file(user_file)?
        .into_iter()
        .map(|b| FileRule {
            sid: b.sid,
            reason: b.reason,
            maybe: b.maybe,
        })
        .collect();
    let entry = FileRule {
        sid,
        reason: reason.trim().to_string(),
        maybe: false,
    };
    match rules.iter_mut().find(|r| r.sid == sid) {
        Some(r) => *r = entry,
        None => rules.push(entry),
    }
    let body =
        toml::to_string(&SidFile { rule: rules }).map_err(|e| located(user_file, e.to_string()))?;
    let text = format!(
        "# Snort SIDs added by technicians (fieldbook snort add); same format as the built-in list.\n\n{body}"
    );
    if let Some(dir) = user_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        super::atomic::create_private_dir(dir).map_err(|e| located(user_file, e.to_string()))?;
    }
    super::atomic::write_atomic(user_file, text.as_bytes())
        .map_err(|e| located(user_file, e.to_string()))
}

/// One line of a rules file that carries a listed SID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHit {
    /// The file as seen on the target (`/var/lib/suva/.../web-misc.rules`), not under `--root`.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// Active (not commented out).
    pub enabled: bool,
    /// The exact `sid:N;` text on the line, used as the edit pattern.
    pub sid_text: String,
    /// The rule line, for the diff preview.
    pub text: String,
}

/// Where a listed SID stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleState {
    /// At least one active rule line carries it: snort uses it.
    Enabled,
    /// Every rule line carrying it is commented out.
    Disabled,
    /// No rule line carries it (not in this ruleset).
    NotFound,
}

impl RuleState {
    /// The word shown to the technician.
    pub fn label(self) -> &'static str {
        match self {
            RuleState::Enabled => "enabled",
            RuleState::Disabled => "disabled",
            RuleState::NotFound => "not found",
        }
    }
}

/// One listed SID and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SidReport {
    /// The SID and its reason.
    #[serde(flatten)]
    pub entry: BadSid,
    /// Its state over all hits.
    pub state: RuleState,
    /// Every rule line carrying it.
    pub hits: Vec<RuleHit>,
}

/// The result of scanning the rules directories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// The rule directories that exist on the target (target paths).
    pub dirs: Vec<String>,
    /// One report per listed SID, in list order.
    pub sids: Vec<SidReport>,
    /// Files that could not be read, with the reason.
    pub errors: Vec<String>,
}

/// Finds every `sid:N;` in one line: `(N, byte range of the whole "sid:N;")`. Spaces are
/// allowed around `:` and before `;`; `sid` must not be the tail of a longer word.
pub fn sids_in_line(line: &str) -> Vec<(u64, std::ops::Range<usize>)> {
    let b = line.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(off) = line.get(from..).and_then(|s| s.find("sid")) {
        let start = from + off;
        from = start + 3;
        if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
            continue;
        }
        let mut i = start + 3;
        let skip_ws = |mut i: usize| {
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            i
        };
        i = skip_ws(i);
        if i >= b.len() || b[i] != b':' {
            continue;
        }
        i = skip_ws(i + 1);
        let digits = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == digits {
            continue;
        }
        let Ok(n) = line[digits..i].parse::<u64>() else {
            continue;
        };
        i = skip_ws(i);
        if i < b.len() && b[i] == b';' {
            found.push((n, start..i + 1));
            from = i + 1;
        }
    }
    found
}

/// Snort rule actions: a commented line starting with one of these is a disabled rule.
const ACTIONS: [&str; 8] = [
    "alert", "log", "pass", "activate", "dynamic", "drop", "reject", "sdrop",
];

/// Scans one file's text (named `file` on the target) for the SIDs in `wanted`. A rule
/// continued over several lines with trailing backslashes is read as one rule: its `sid` is
/// usually on the last line, its action on the first.
pub fn scan_text(file: &str, text: &str, wanted: &[u64]) -> Vec<(u64, RuleHit)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut hits = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let first = i;
        let enabled = !lines[i].trim_start().starts_with('#');
        // Join continuation lines of the same state (active, or commented as a whole).
        while i + 1 < lines.len()
            && lines[i].trim_end().ends_with('\\')
            && lines[i + 1].trim_start().starts_with('#') != enabled
        {
            i += 1;
        }
        let group = &lines[first..=i];
        i += 1;
        if !group.iter().any(|l| l.contains("sid")) {
            continue;
        }
        if !enabled {
            let rule = group[0].trim_start().trim_start_matches(['#', ' ', '\t']);
            if !ACTIONS.iter().any(|a| {
                rule.strip_prefix(a)
                    .is_some_and(|r| r.starts_with([' ', '\t']))
            }) {
                continue; // a remark that mentions a sid, not a disabled rule
            }
        }
        for line in group {
            for (sid, range) in sids_in_line(line) {
                if wanted.contains(&sid) {
                    hits.push((
                        sid,
                        RuleHit {
                            file: file.to_string(),
                            line: first + 1,
                            enabled,
                            sid_text: line[range].to_string(),
                            text: group.join("\n"),
                        },
                    ));
                }
            }
        }
    }
    hits
}

/// Resolves a target path under `root` (for `--root`).
pub fn under_root(root: Option<&Path>, target_path: &str) -> PathBuf {
    match root {
        Some(r) => r.join(target_path.trim_start_matches('/')),
        None => PathBuf::from(target_path),
    }
}

/// Scans every regular file of each existing rules directory (non-recursive, sorted by name)
/// for the listed SIDs, as `grep sid:N *` in that directory would.
pub fn scan(root: Option<&Path>, dirs: &[&str], list: &[BadSid]) -> ScanReport {
    scan_files(dirs, list, &mut |dir| {
        let real = under_root(root, dir);
        let entries = std::fs::read_dir(&real).ok()?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Some(
            names
                .into_iter()
                .map(|name| {
                    let bytes = std::fs::read(real.join(&name)).map_err(|e| e.to_string());
                    (name, bytes)
                })
                .collect(),
        )
    })
}

/// The regular files of one rules directory, by name, with their bytes or why they could not
/// be read.
pub type RulesFiles = Vec<(String, Result<Vec<u8>, String>)>;

/// Reads one rules directory ([`RulesFiles`]); `None` when the directory does not exist. On
/// this machine or a host over ssh.
pub type ReadRulesDir<'a> = dyn FnMut(&str) -> Option<RulesFiles> + 'a;

/// [`scan`] with the files read by `read_dir` (a host over ssh reads them there).
pub fn scan_files(dirs: &[&str], list: &[BadSid], read_dir: &mut ReadRulesDir<'_>) -> ScanReport {
    let wanted: Vec<u64> = list.iter().map(|s| s.sid).collect();
    let mut report = ScanReport::default();
    let mut by_sid: BTreeMap<u64, Vec<RuleHit>> = BTreeMap::new();
    for dir in dirs {
        let Some(files) = read_dir(dir) else {
            continue;
        };
        report.dirs.push(dir.to_string());
        for (name, read) in files {
            let target = format!("{}/{name}", dir.trim_end_matches('/'));
            match read {
                Ok(bytes) => {
                    for (sid, hit) in scan_text(&target, &String::from_utf8_lossy(&bytes), &wanted)
                    {
                        by_sid.entry(sid).or_default().push(hit);
                    }
                }
                Err(e) => report.errors.push(format!("{target}: {e}")),
            }
        }
    }
    report.sids = list
        .iter()
        .map(|entry| {
            let hits = by_sid.remove(&entry.sid).unwrap_or_default();
            let state = if hits.is_empty() {
                RuleState::NotFound
            } else if hits.iter().any(|h| h.enabled) {
                RuleState::Enabled
            } else {
                RuleState::Disabled
            };
            SidReport {
                entry: entry.clone(),
                state,
                hits,
            }
        })
        .collect();
    report
}

/// The edits that disable a SID: comment out each active rule line carrying it.
pub fn disable_edits(report: &SidReport) -> Vec<Edit> {
    edits(report, true)
}

/// The edits that re-enable a SID: uncomment each commented rule line carrying it.
pub fn enable_edits(report: &SidReport) -> Vec<Edit> {
    edits(report, false)
}

fn edits(report: &SidReport, disable: bool) -> Vec<Edit> {
    let mut out: Vec<Edit> = Vec::new();
    for hit in report.hits.iter().filter(|h| h.enabled == disable) {
        let action = if disable {
            EditAction::CommentOut {
                pattern: hit.sid_text.clone(),
            }
        } else {
            EditAction::Uncomment {
                pattern: hit.sid_text.clone(),
            }
        };
        let edit = Edit {
            path: hit.file.clone(),
            comment: "#".to_string(),
            create: false,
            mode: None,
            missing: None,
            action,
        };
        if !out.contains(&edit) {
            out.push(edit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB_MISC: &str = "\
# web-misc.rules
alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"WEB-MISC long basic authorization string\"; flow:to_server,established; content:\"??????????\"; sid:1091; rev:13;)
#alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"WEB-MISC Transfer-Encoding chunked\"; sid:1807; rev:10;)
# sid:1233; was noisy here, see ticket 12
alert tcp any any -> any 80 (msg:\"x\"; sid: 2229 ; rev:1;)
alert tcp any any -> any 80 (msg:\"presid:966;\"; sid:9660; rev:1;)
";

    #[test]
    fn the_article_list_is_complete() {
        let sids: Vec<u64> = article_sids().unwrap().iter().map(|s| s.sid).collect();
        assert_eq!(
            sids,
            [
                1091, 1233, 1390, 1394, 1807, 2109, 2229, 2000540, 1000000211, 1000000212,
                1000000213, 1000000214, 966
            ]
        );
        assert!(article_sids().unwrap().iter().all(|s| !s.reason.is_empty()));
    }

    /// The reasons of SIDs 1807, 2229 and 1394 say what the article ("Bad Snort Rules") says:
    /// 1807 and 2229 have a fix (tuning the rule) and a technician should hear of it before
    /// disabling them; 1394's reason is the article's sentence and no more (an anecdote the
    /// article does not tell crept in once). The quoted texts are the article's.
    #[test]
    fn the_reasons_say_what_the_article_says() {
        let sids = article_sids().unwrap();
        let reason = |sid: u64| -> String {
            sids.iter()
                .find(|s| s.sid == sid)
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| panic!("SID {sid} is not listed"))
        };
        assert_eq!(
            reason(1394),
            "False positive on payloads containing 'aaaaaaaaaaaaaaaaaaaaa'."
        );
        // Article: 'False positive on any request where the string "chunked" preceeds the
        // Transfer-Encoding header. A fix is available at:'
        let r1807 = reason(1807);
        assert!(
            r1807.starts_with(
                "False positive on any request where the string \"chunked\" precedes the \
                 Transfer-Encoding header."
            ),
            "{r1807}"
        );
        // Article: "This rule is false positive for ANY request to viewtopic.php, taking out
        // any visitors to a phpBB installation. There is a fix for this rule outlined in this
        // e-mail from 2004:"
        let r2229 = reason(2229);
        assert!(
            r2229.starts_with("False positive for ANY request to viewtopic.php"),
            "{r2229}"
        );
        assert!(r2229.contains("phpBB"), "{r2229}");
        assert!(
            r2229.contains("2004"),
            "the article's e-mail is from 2004: {r2229}"
        );
        for (sid, r) in [(1807, &r1807), (2229, &r2229)] {
            assert!(r.contains("A fix for "), "SID {sid}: a fix exists: {r}");
            assert!(r.contains("tun"), "SID {sid}: the fix is tuning: {r}");
            assert!(
                r.contains("the article's link is not in the source"),
                "SID {sid}: say why no link is given: {r}"
            );
        }
    }

    #[test]
    fn finds_sids_exactly() {
        assert_eq!(sids_in_line("(sid:1091; rev:1;)"), [(1091, 1..10)]);
        assert_eq!(sids_in_line("sid : 12 ;").len(), 1);
        assert!(sids_in_line("presid:966;").is_empty());
        assert!(sids_in_line("sid:966").is_empty());
        assert!(sids_in_line("sid:;").is_empty());
        assert!(sids_in_line("sid:99999999999999999999999;").is_empty());
        assert_eq!(sids_in_line("sid:1; sid:2;").len(), 2);
        assert_eq!(sids_in_line("éésid:1;"), [(1, 4..10)]);
    }

    #[test]
    fn scan_text_reports_state_line_and_pattern() {
        let hits = scan_text(
            "/r/web-misc.rules",
            WEB_MISC,
            &[1091, 1807, 1233, 2229, 966],
        );
        let summary: Vec<(u64, usize, bool, &str)> = hits
            .iter()
            .map(|(s, h)| (*s, h.line, h.enabled, h.sid_text.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (1091, 2, true, "sid:1091;"),
                (1807, 3, false, "sid:1807;"),
                (2229, 5, true, "sid: 2229 ;")
            ]
        );
    }

    fn rules_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let current = root.path().join(RULE_DIRS[0].trim_start_matches('/'));
        let former = root.path().join(RULE_DIRS[1].trim_start_matches('/'));
        std::fs::create_dir_all(&current).unwrap();
        std::fs::create_dir_all(&former).unwrap();
        std::fs::write(current.join("web-misc.rules"), WEB_MISC).unwrap();
        std::fs::write(
            former.join("old.rules"),
            "#alert tcp any any -> any any (sid:1091; rev:1;)\n",
        )
        .unwrap();
        root
    }

    #[test]
    fn scan_honours_root_and_both_directories() {
        let root = rules_root();
        let list = article_sids().unwrap();
        let report = scan(Some(root.path()), &RULE_DIRS, &list);
        assert_eq!(report.dirs, RULE_DIRS);
        let state = |sid| report.sids.iter().find(|r| r.entry.sid == sid).unwrap();
        assert_eq!(state(1091).state, RuleState::Enabled);
        assert_eq!(state(1091).hits.len(), 2);
        assert_eq!(state(1807).state, RuleState::Disabled);
        assert_eq!(state(1233).state, RuleState::NotFound);
        assert_eq!(state(966).state, RuleState::NotFound);
        assert_eq!(
            state(1091).hits[0].file,
            "/var/lib/suva/services/intrusion-protection/rules/web-misc.rules"
        );
        let none = scan(Some(&root.path().join("nothing")), &RULE_DIRS, &list);
        assert!(none.dirs.is_empty());
        assert!(none.sids.iter().all(|r| r.state == RuleState::NotFound));
    }

    #[test]
    fn disable_and_enable_edits() {
        let root = rules_root();
        let report = scan(Some(root.path()), &RULE_DIRS, &article_sids().unwrap());
        let r1091 = report.sids.iter().find(|r| r.entry.sid == 1091).unwrap();
        let edits = disable_edits(r1091);
        assert_eq!(edits.len(), 1, "only the active line is commented");
        assert_eq!(
            edits[0].path,
            "/var/lib/suva/services/intrusion-protection/rules/web-misc.rules"
        );
        assert_eq!(
            edits[0].action,
            EditAction::CommentOut {
                pattern: "sid:1091;".into()
            }
        );
        let back = enable_edits(r1091);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].path, "/var/lib/suva/services/snort/rules/old.rules");
        assert!(matches!(back[0].action, EditAction::Uncomment { .. }));
    }

    /// A rule continued with trailing backslashes (as snort's own rule files write long
    /// rules) is disabled and enabled as a whole: every line of it.
    #[test]
    fn a_continued_rule_is_commented_as_a_whole() {
        let text = "\
alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS \\
    (msg:\"WEB-MISC Transfer-Encoding: chunked\"; flow:to_server,established; \\
    content:\"chunked\"; nocase; classtype:web-application-attack; sid:1807; rev:10;)
alert tcp any any -> any 80 (msg:\"x\"; sid:1091; rev:1;)
";
        let hits = scan_text("/r/web-misc.rules", text, &[1807]);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1.enabled);
        assert_eq!(hits[0].1.line, 1);
        let report = SidReport {
            entry: BadSid {
                sid: 1807,
                reason: String::new(),
                source: SidSource::Article,
                maybe: false,
            },
            state: RuleState::Enabled,
            hits: hits.into_iter().map(|(_, h)| h).collect(),
        };
        let e = &disable_edits(&report)[0];
        let off = crate::core::edit::edit_text(text, &e.action, "#").unwrap();
        let lines: Vec<&str> = off.lines().collect();
        assert!(lines[..3].iter().all(|l| l.starts_with('#')), "{off}");
        assert!(!lines[3].starts_with('#'));
        assert_eq!(
            crate::core::edit::edit_text(&off, &e.action, "#").unwrap(),
            off
        );
        let hits = scan_text("/r/web-misc.rules", &off, &[1807]);
        assert_eq!(hits.len(), 1, "the commented rule is still found");
        assert!(!hits[0].1.enabled);
        let report = SidReport {
            state: RuleState::Disabled,
            hits: hits.into_iter().map(|(_, h)| h).collect(),
            ..report
        };
        let e = &enable_edits(&report)[0];
        assert_eq!(
            crate::core::edit::edit_text(&off, &e.action, "#").unwrap(),
            text
        );
    }

    #[test]
    fn user_sids_are_added_and_merged() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(USER_FILE);
        add_user_sid(&file, 424242, "Blocks our monitoring probe").unwrap();
        add_user_sid(&file, 966, "Uploads to the intranet").unwrap();
        add_user_sid(&file, 424242, "Blocks our Nagios probe").unwrap();
        let sids = load_sids(Some(&file)).unwrap();
        let mine = sids.iter().find(|s| s.sid == 424242).unwrap();
        assert_eq!(mine.reason, "Blocks our Nagios probe");
        assert_eq!(mine.source, SidSource::User);
        let s966 = sids.iter().find(|s| s.sid == 966).unwrap();
        assert_eq!(
            (s966.source, s966.reason.as_str()),
            (SidSource::User, "Uploads to the intranet")
        );
        assert_eq!(sids.len(), 14);
        assert_eq!(
            load_sids(Some(&dir.path().join("missing"))).unwrap().len(),
            13
        );
    }

    #[test]
    fn a_broken_user_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(USER_FILE);
        std::fs::write(&file, "[[rule]]\nsid = \"x\"\n").unwrap();
        let err = add_user_sid(&file, 1, "r").unwrap_err();
        assert!(err.to_string().contains(":2:"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "[[rule]]\nsid = \"x\"\n"
        );
        assert!(load_sids(Some(&file)).is_err());
    }

    #[test]
    fn arbitrary_rule_text_never_panics() {
        for input in crate::core::parse::fuzz::inputs(WEB_MISC, 3000, 23) {
            let _ = scan_text("f", &input, &[1091, 1807, 2229, 966]);
        }
    }
}
