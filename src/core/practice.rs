//! Practice mode for trainees: nothing is executed; each command plays a simulated transcript
//! written from what the real tools print, through the same filter and the same events as a
//! real run, including failures a trainee must learn to handle.
//!
//! Transcripts live in `assets/practice/<key>.txt` and are embedded in the binary. A file may
//! start with directive lines: `%% exit N` (the simulated exit code) and `%% advice TEXT` (shown
//! after a failure). A command finds its transcript by the step's `practice` key, else
//! `<program>-<first argument without dashes>`, else `<program>-<first word that is not an
//! option>`, else `<program>`, else a generic "would run" transcript.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::progress::{Exit, Status};
use super::runner::{
    CancelHandle, Command, RunEvent, RunOutcome, RunningStep, Seen, StepJob, Watch, judge,
    judge_shows,
};
use super::terminal_text::TerminalText;

macro_rules! transcripts {
    ($($key:literal),* $(,)?) => {
        /// Every embedded transcript as (key, file text).
        pub const TRANSCRIPTS: &[(&str, &str)] = &[
            $(($key, include_str!(concat!("../../assets/practice/", $key, ".txt"))),)*
        ];
    };
}

transcripts!(
    "chkconfig",
    "chkconfig-list",
    "emerge-depclean",
    "emerge-gcc-glibc",
    "emerge-portage",
    "emerge-pretend",
    "emerge-sync",
    "emerge-world",
    "emerge-world-blocked",
    "emerge-world-keep-going",
    "env-update",
    "etc-update",
    "gcc-config",
    "gcc-config-l",
    "lafilefixer",
    "perl-cleaner",
    "python-updater",
    "quickpkg",
    "rc-update",
    "rc-update-show",
    "revdep-rebuild",
    "revdep-rebuild-missing",
    "yum-clean",
    "yum-groupinstall",
    "yum-install",
    "yum-install-depfail",
    "yum-update",
);

/// A simulated run of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// Which transcript (`generic` when none matched).
    pub key: String,
    /// The output, byte for byte as the tool would print it (may hold colour codes).
    pub output: String,
    /// The exit code the tool would return.
    pub exit: i32,
    /// What to do about a failure, shown after it.
    pub advice: Option<String>,
}

/// Parses a transcript file's directives and body.
pub fn parse(key: &str, file: &str) -> Transcript {
    let mut exit = 0;
    let mut advice = None;
    let mut body = file;
    while let Some(line) = body.strip_prefix("%% ") {
        let (directive, rest) = line.split_once('\n').unwrap_or((line, ""));
        if let Some(n) = directive.strip_prefix("exit ") {
            exit = n.trim().parse().unwrap_or(1);
        } else if let Some(text) = directive.strip_prefix("advice ") {
            advice = Some(text.trim().to_string());
        }
        body = rest;
    }
    Transcript {
        key: key.to_string(),
        output: body.to_string(),
        exit,
        advice,
    }
}

/// Finds an embedded transcript by exact key.
pub fn find(key: &str) -> Option<Transcript> {
    TRANSCRIPTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(k, text)| parse(k, text))
}

/// The transcript for one command of a step (see the module comment for the order).
pub fn lookup(step_key: Option<&str>, command: &Command) -> Transcript {
    let program = command.program_name();
    let args = command.argv.get(1..).unwrap_or_default();
    let mut keys = Vec::new();
    if let Some(k) = step_key {
        keys.push(k.to_string());
    }
    if let Some(first) = args.first() {
        keys.push(format!("{program}-{}", first.trim_start_matches('-')));
    }
    if let Some(word) = args.iter().find(|a| !a.starts_with('-')) {
        keys.push(format!("{program}-{word}"));
    }
    keys.push(program.to_string());
    keys.iter()
        .find_map(|k| find(k))
        .unwrap_or_else(|| Transcript {
            key: "generic".to_string(),
            output: format!(
                "[practice] would run: {}\n[practice] nothing was executed.\n",
                command.display()
            ),
            exit: 0,
            advice: None,
        })
}

/// Plays a step in practice mode on a thread: each command's transcript, `pace` apart per line,
/// judged like a real run. The optional log (in the practice state) gets the transcript bytes.
/// `step_key` is used for the step's first command.
pub fn start(
    job: StepJob,
    step_key: Option<String>,
    log: Option<PathBuf>,
    pace: Duration,
) -> RunningStep {
    let (tx, rx) = mpsc::sync_channel(crate::core::runner::CHANNEL_DEPTH);
    let cancel = CancelHandle::default();
    let c = cancel.clone();
    thread::spawn(move || {
        let outcome = play(&job, step_key.as_deref(), log, pace, &c, &tx);
        let _ = tx.send(RunEvent::Finished(outcome));
    });
    RunningStep { events: rx, cancel }
}

fn play(
    job: &StepJob,
    step_key: Option<&str>,
    log: Option<PathBuf>,
    pace: Duration,
    cancel: &CancelHandle,
    tx: &mpsc::SyncSender<RunEvent>,
) -> RunOutcome {
    let mut log = log.and_then(|p| {
        if let Some(d) = p.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        OpenOptions::new().create(true).append(true).open(p).ok()
    });
    let mut last = None;
    for (index, command) in job.commands.iter().enumerate() {
        let t = lookup(if index == 0 { step_key } else { None }, command);
        let _ = tx.send(RunEvent::Started {
            index,
            command: command.display(),
        });
        let mut filter = TerminalText::new();
        let watch = Watch::of(job, index + 1 == job.commands.len());
        let mut seen = Seen::default();
        for line in t.output.split_inclusive('\n') {
            if cancel.is_requested() {
                return RunOutcome {
                    status: Status::Cancelled,
                    exit: Some(Exit::Signal(libc::SIGINT)),
                    failed_program: Some(index),
                    message: "cancelled".to_string(),
                };
            }
            if let Some(f) = log.as_mut() {
                let _ = f.write_all(line.as_bytes());
            }
            let mut lines = Vec::new();
            filter.feed(line.as_bytes(), &mut lines);
            watch.look(&lines, &mut seen);
            super::runner::send_output(&mut filter, lines, tx);
            if !pace.is_zero() {
                thread::sleep(pace);
            }
        }
        super::runner::finish_output(&mut filter, tx, |lines| watch.look(lines, &mut seen));
        let exit = Exit::Code(t.exit);
        last = Some(exit);
        let why = judge(exit, &job.expect, seen.ok_output);
        // Nothing simulated what this command prints: the practice run cannot judge `shows`
        // and says so in its verdict instead of passing or failing on text it never had.
        if why.is_none()
            && t.key == "generic"
            && let Some(missing) = judge_shows(&watch.shows, seen.shows)
        {
            return RunOutcome {
                status: Status::Done,
                exit: Some(exit),
                failed_program: None,
                message: format!(
                    "finished [practice: nothing was executed; a real run fails if {missing}]"
                ),
            };
        }
        let why = why.or_else(|| judge_shows(&watch.shows, seen.shows));
        if let Some(why) = why {
            if let Some(advice) = &t.advice {
                let _ = tx.send(RunEvent::Notice(format!("[practice] {advice}")));
            }
            return RunOutcome {
                status: Status::Failed,
                exit: Some(exit),
                failed_program: Some(index),
                message: format!("{} failed ({why}) [practice]", command.display()),
            };
        }
    }
    RunOutcome {
        status: Status::Done,
        exit: last,
        failed_program: None,
        message: "finished [practice: nothing was executed]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(argv: &[&str]) -> Command {
        Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
        }
    }

    #[test]
    fn every_transcript_parses_and_failures_say_so() {
        for (key, text) in TRANSCRIPTS {
            let t = parse(key, text);
            assert!(!t.output.is_empty(), "{key} is empty");
            assert!(!t.output.starts_with("%%"), "{key}: bad directive");
        }
        for key in [
            "emerge-world-blocked",
            "emerge-world-keep-going",
            "revdep-rebuild-missing",
            "yum-install-depfail",
        ] {
            let t = find(key).unwrap();
            assert_ne!(t.exit, 0, "{key} must fail");
            assert!(t.advice.is_some(), "{key} needs advice");
        }
    }

    /// The drills teach the article's lesson on the article's systems: etc-update never
    /// overwrites sshd_config (the lock-out the article warns about), yum is CentOS 5's yum
    /// 3.2 (not EL8's dnf), the gamin-python drill fails on gamin-python, and quickpkg writes
    /// to the PKGDIR the step names.
    #[test]
    fn drills_are_from_the_right_era_and_teach_the_right_lesson() {
        let etc = find("etc-update").unwrap().output;
        assert!(!etc.contains("): -5"), "the drill must not answer -5");
        assert!(!etc.contains("Replacing /etc/ssh/sshd_config"), "{etc}");
        assert!(
            etc.contains("Deleting /etc/ssh/._cfg0000_sshd_config"),
            "{etc}"
        );
        for key in [
            "yum-install",
            "yum-update",
            "yum-groupinstall",
            "yum-clean",
            "yum-install-depfail",
        ] {
            let t = find(key).unwrap().output;
            assert!(
                t.starts_with("Loaded plugins: fastestmirror\n"),
                "{key}: {t}"
            );
            for dnf in [
                "Last metadata expiration check",
                "Dependencies resolved.",
                ".el8",
                "x86_64",
            ] {
                assert!(!t.contains(dnf), "{key} reads like dnf: {dnf}");
            }
        }
        let gamin = find("yum-install-depfail").unwrap();
        assert!(
            gamin
                .output
                .contains("gamin-python-0.1.7-10.el5.i386 from base has depsolving problems")
        );
        assert!(!gamin.output.contains("httpd"));
        assert!(gamin.advice.unwrap().contains("gamin"));
        let rb = crate::core::runbook::load_str(
            "g.toml",
            include_str!("../../assets/checklists/gentoo-world-update.toml"),
        )
        .unwrap();
        let why = &rb.step("quickpkg").unwrap().why;
        let quick = find("quickpkg").unwrap().output;
        let dir = quick
            .split("Packages now in '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap();
        assert_eq!(dir, "/usr/portage/packages", "the article's PKGDIR");
        assert!(
            why.contains(dir),
            "quickpkg writes to {dir}; the step says: {why}"
        );
        assert!(
            !why.contains("/var/cache/binpkgs"),
            "the step names one place, where the drill writes: {why}"
        );
    }

    #[test]
    fn lookup_order() {
        assert_eq!(lookup(None, &cmd(&["emerge", "--sync"])).key, "emerge-sync");
        assert_eq!(
            lookup(None, &cmd(&["yum", "-y", "update"])).key,
            "yum-update"
        );
        assert_eq!(
            lookup(None, &cmd(&["gcc-config", "-l"])).key,
            "gcc-config-l"
        );
        assert_eq!(
            lookup(None, &cmd(&["/usr/sbin/chkconfig", "sshd", "off"])).key,
            "chkconfig"
        );
        assert_eq!(
            lookup(
                Some("emerge-world-blocked"),
                &cmd(&["emerge", "-uDN", "@world"])
            )
            .key,
            "emerge-world-blocked"
        );
        let g = lookup(None, &cmd(&["xm", "create", "vm 1"]));
        assert_eq!(g.key, "generic");
        assert!(g.output.contains("would run: xm create 'vm 1'"));
    }

    #[test]
    fn a_failure_transcript_fails_the_step_with_advice() {
        let job = StepJob {
            commands: vec![cmd(&["yum", "-y", "install", "httpd"])],
            expect: vec![0],
            ok_output: vec![],
            shows: Vec::new(),
        };
        let run = start(
            job,
            Some("yum-install-depfail".into()),
            None,
            Duration::ZERO,
        );
        let mut notices = Vec::new();
        let outcome = loop {
            match run.events.recv().unwrap() {
                RunEvent::Finished(o) => break o,
                RunEvent::Notice(n) => notices.push(n),
                _ => {}
            }
        };
        assert_eq!(outcome.status, Status::Failed);
        assert_eq!(outcome.exit, Some(Exit::Code(1)));
        assert!(notices.iter().any(|n| n.starts_with("[practice]")));
    }
}
