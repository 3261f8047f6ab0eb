//! Opening a run: lock it, load or create its state file, move an unreadable one aside (and
//! refuse to start fresh until asked), refresh what the runbook says, reconcile steps left
//! running.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::{RunbookFacts, Store, StoreError};
use crate::core::atomic;
use crate::core::clock;
use crate::core::edit_journal;
use crate::core::host;
use crate::core::journal::Event;
use crate::core::machine::SshSession;
use crate::core::progress::Run;
use crate::core::runbook::{Action, Runbook};
use crate::core::state_dir::{self, StateDir};

/// What to do when the saved progress cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfCorrupt {
    /// Move it aside and return [`StoreError::Corrupt`] so the technician can decide.
    Stop,
    /// The technician agreed: move it aside (if not already) and start a fresh run.
    StartFresh,
}

impl Store {
    /// Opens the run of `runbook` on `target` in `dir`, creating it if new. Any step left
    /// `running` is reconciled first (see [`Store::reconciled`]). Takes the run's lock:
    /// [`StoreError::InUse`] if another fieldbook has it open.
    ///
    /// An unreadable state file is moved aside as `<name>.corrupt-<stamp>` and, with
    /// [`IfCorrupt::Stop`], [`StoreError::Corrupt`] says where; as long as such a copy exists
    /// and no new state file was written, opening keeps returning that error until called
    /// with [`IfCorrupt::StartFresh`].
    pub fn open(
        dir: &StateDir,
        runbook: &Runbook,
        target: &str,
        if_corrupt: IfCorrupt,
    ) -> Result<Store, StoreError> {
        dir.ensure()?;
        // Room to save the record when the disk fills up later (best effort).
        crate::core::disk_space::ensure_reserve(&dir.base());
        let file = dir.run_file(&runbook.id, target);
        let journal = dir.journal_file(&runbook.id, target);
        let lock = lock_run(&dir.lock_file(&runbook.id, target))?;
        remove_stale_temp(&file);
        end_cut_journal_line(&journal).map_err(|e| StoreError::io(&journal, e))?;

        let mut events = Vec::new();
        let loaded = match atomic::read_nofollow(&file) {
            Ok(bytes) => match state_dir::parse_run(&file, &bytes) {
                Ok(run) => Some(run),
                Err(reason) => {
                    let moved_to = move_aside(&file)?;
                    fresh_or_stop(dir, &file, moved_to, reason, if_corrupt, &mut events)?;
                    None
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(moved_to) = latest_corrupt_copy(&file) {
                    let reason = "an earlier state file was unreadable".to_string();
                    fresh_or_stop(dir, &file, moved_to, reason, if_corrupt, &mut events)?;
                }
                None
            }
            Err(e) => {
                let reason = format!("cannot read: {e}");
                let moved_to = move_aside(&file)?;
                fresh_or_stop(dir, &file, moved_to, reason, if_corrupt, &mut events)?;
                None
            }
        };

        let who = host::who();
        let now = clock::now();
        let is_new = loaded.is_none();
        let mut run = loaded.unwrap_or_else(|| Run {
            format: Run::FORMAT,
            runbook: runbook.id.clone(),
            target: target.to_string(),
            host: host::hostname(),
            started: now.clone(),
            updated: now.clone(),
            practice: dir.is_practice(),
            ..Run::default()
        });
        if is_new {
            events.insert(
                0,
                Event::Created {
                    runbook: run.runbook.clone(),
                    target: run.target.clone(),
                    host: run.host.clone(),
                },
            );
        }
        let before = run.clone();
        run.title = runbook.title.clone();
        run.step_order = runbook.steps().map(|(_, s)| s.id.clone()).collect();

        let mut store = Store {
            dir: dir.clone(),
            file,
            journal,
            run,
            facts: facts_of(runbook),
            who,
            unjournalled: Vec::new(),
            last_save_error: None,
            disk_full: false,
            reconciled: Vec::new(),
            secret_prints: BTreeMap::new(),
            writer: atomic::write_atomic,
            _lock: lock,
        };
        let mut reconcile_events = store.reconcile_running();
        events.append(&mut reconcile_events);
        events.append(&mut store.recover_edits(None));
        if store.run != before || is_new || !events.is_empty() {
            store.run.updated = now;
            // A failed save here is not fatal: the technician can still look at the run, and
            // the error is reported by save_problem() until a save succeeds.
            let _ = store.commit_many(events);
        }
        Ok(store)
    }

    /// Records, from `host`'s files over its ssh session, the edits of a `--host` session whose
    /// file on that host was replaced but whose record was lost (a kill between the host's
    /// rename and the save). Opening a run settles only this machine's files; the opener that
    /// holds a session to the host calls this next. Returns how many were recorded. As when
    /// opening, a failed save is not fatal here: [`Store::save_problem`] reports it.
    pub fn recover_host_edits(&mut self, host: &SshSession) -> usize {
        let events = self.recover_edits(Some(host));
        let found = events.len();
        if found > 0 {
            self.run.updated = clock::now();
            let _ = self.commit_many(events);
        }
        found
    }

    /// Records the edits whose file was replaced but whose record was lost (a kill between the
    /// rename and the save): settled from the run's edit journal by their hashes
    /// ([`edit_journal::recover`]); a host's edits only through `host`, a session to it.
    fn recover_edits(&mut self, host: Option<&SshSession>) -> Vec<Event> {
        if self.dir.is_practice() {
            return Vec::new();
        }
        let recorded: std::collections::BTreeSet<String> = self
            .run
            .edits
            .iter()
            .filter_map(|e| e.backup.clone())
            .collect();
        let archive = crate::core::apply::archive_for(&self.run);
        let found = edit_journal::recover(&self.dir.base(), &archive, &recorded, host);
        found
            .into_iter()
            .map(|e| {
                let event = Event::EditApplied {
                    step: e.step.clone(),
                    path: e.path.clone(),
                    backup: e.backup.clone(),
                };
                self.run.edits.push(e);
                event
            })
            .collect()
    }

    /// Journals several events and saves once.
    pub(super) fn commit_many(&mut self, events: Vec<Event>) -> Result<(), StoreError> {
        let mut events = events.into_iter();
        let Some(last) = events.next_back() else {
            return self.flush();
        };
        for e in events {
            let entry = crate::core::journal::Entry::new(clock::now(), self.who.clone(), e);
            if let Ok(line) = serde_json::to_string(&entry) {
                self.unjournalled.push(line);
            }
        }
        self.commit(last)
    }
}

fn fresh_or_stop(
    dir: &StateDir,
    file: &Path,
    moved_to: PathBuf,
    reason: String,
    if_corrupt: IfCorrupt,
    events: &mut Vec<Event>,
) -> Result<(), StoreError> {
    match if_corrupt {
        IfCorrupt::Stop => Err(StoreError::Corrupt {
            file: file.to_path_buf(),
            moved_to,
            reason,
        }),
        IfCorrupt::StartFresh => {
            let rel = moved_to
                .strip_prefix(dir.base())
                .unwrap_or(&moved_to)
                .display()
                .to_string();
            events.push(Event::StartedFresh { moved_to: rel });
            Ok(())
        }
    }
}

fn facts_of(runbook: &Runbook) -> RunbookFacts {
    let mut facts = RunbookFacts::default();
    for (_, step) in runbook.steps() {
        facts.titles.insert(step.id.clone(), step.title.clone());
        if step.reboot {
            facts.reboots.insert(step.id.clone());
        }
        if let Action::Run(spec) = &step.action {
            facts.expect.insert(step.id.clone(), spec.expect.clone());
        }
    }
    for v in &runbook.variables {
        facts.variables.insert(v.name.clone());
        if v.ty == crate::core::vars::VarType::Secret {
            facts.secrets.insert(v.name.clone());
        }
    }
    facts
}

/// Takes an exclusive, non-blocking lock on the run's lock file. The kernel drops it when the
/// process dies (kill -9 included), so a crashed fieldbook never leaves a run locked.
pub(super) fn lock_run(path: &Path) -> Result<File, StoreError> {
    let file = atomic::private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    // A lock this process just released can look held for a moment: a child forked by
    // another thread (a command starting) holds a copy of the descriptor until its exec
    // closes it. Such a copy goes within milliseconds; another fieldbook's lock does not.
    for attempt in 0..=LOCK_RETRIES {
        // SAFETY: the descriptor is open for the duration of the call; flock has no other
        // preconditions.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            write_holder(&file);
            return Ok(file);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(StoreError::io(path, err));
        }
        if attempt < LOCK_RETRIES {
            std::thread::sleep(LOCK_RETRY_GAP);
        }
    }
    Err(StoreError::InUse {
        lock: path.to_path_buf(),
        holder: holder_of(path),
    })
}

/// Whether some process holds the run's lock now, read from `/proc/locks` without taking it
/// (taking it, even for a moment, could refuse the holder's own reopening). `None` when the
/// lock file or `/proc/locks` cannot be read. A lock just released can still read as held for a
/// few milliseconds (see `lock_run`), so a caller polls rather than trusting one answer.
pub fn run_lock_held(dir: &StateDir, runbook: &str, target: &str) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir.lock_file(runbook, target)).ok()?;
    let want = (
        u64::from(libc::major(meta.dev())),
        u64::from(libc::minor(meta.dev())),
        meta.ino(),
    );
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    Some(locks.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        // `1: FLOCK  ADVISORY  WRITE 20991 fe:00:10256738 0 EOF` (a blocked waiter has `->`).
        let Some(at) = words.iter().position(|w| *w == "FLOCK") else {
            return false;
        };
        if words.get(at.wrapping_sub(1)) == Some(&"->") {
            return false;
        }
        let Some(id) = words.get(at + 4) else {
            return false;
        };
        let parts: Vec<&str> = id.split(':').collect();
        match parts.as_slice() {
            [maj, min, ino] => {
                u64::from_str_radix(maj, 16).ok() == Some(want.0)
                    && u64::from_str_radix(min, 16).ok() == Some(want.1)
                    && ino.parse::<u64>().ok() == Some(want.2)
            }
            _ => false,
        }
    }))
}

/// Writes who holds the lock into the lock file (one line: pid, who, host, since), so another
/// fieldbook refused the run can say who has it. Best effort: the lock is what counts.
fn write_holder(mut file: &File) {
    use std::io::Write;
    let line = format!(
        "{} {} {} {}\n",
        std::process::id(),
        crate::core::host::who().replace(' ', "_"),
        crate::core::host::hostname().replace(' ', "_"),
        crate::core::clock::now()
    );
    let _ = file.set_len(0);
    let _ = file.write_all(line.as_bytes());
}

/// ` (USER, pid N on HOST, since TIME)` from a held lock file, or empty when it says nothing
/// readable (an older fieldbook). The text is filtered: it came from a file.
fn holder_of(path: &Path) -> String {
    let mut text = String::new();
    let read = File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(512).read_to_string(&mut text)
    });
    if read.is_err() {
        return String::new();
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [pid, who, host, since] => crate::core::terminal_text::terminal_safe(&format!(
            " ({who}, pid {pid} on {host}, since {since})"
        )),
        _ => String::new(),
    }
}

/// How often, and how far apart, a held lock is tried again before the run counts as in use.
const LOCK_RETRIES: u32 = 10;
const LOCK_RETRY_GAP: std::time::Duration = std::time::Duration::from_millis(20);

/// Ends a journal line cut short by a writer killed mid-append (Linux may stop a write to a
/// file between pages when SIGKILL arrives), so the next event starts on a line of its own
/// instead of being glued to the fragment and lost with it. The fragment stays, as evidence;
/// the journal reader counts it as one unreadable line. Holding the lock, nobody else writes.
fn end_cut_journal_line(journal: &Path) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = match atomic::private_options()
        .read(true)
        .append(true)
        .open(journal)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if f.metadata()?.len() == 0 {
        return Ok(());
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    if last[0] != b'\n' {
        f.write_all(b"\n")?;
        f.sync_data()?;
    }
    Ok(())
}

/// A temp file left by a writer killed mid-save; holding the lock, we know it is not in use.
fn remove_stale_temp(file: &Path) {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return;
    };
    let prefix = format!(".{}.tmp.", name.to_string_lossy());
    if let Ok(listing) = std::fs::read_dir(dir) {
        for entry in listing.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Renames an unreadable state file to `<name>.corrupt-<stamp>` (with a counter if taken) and
/// makes the rename durable. Never overwrites anything.
fn move_aside(file: &Path) -> Result<PathBuf, StoreError> {
    let stamp = clock::file_stamp(clock::now_unix());
    let mut n = 0;
    loop {
        let suffix = if n == 0 {
            format!(".corrupt-{stamp}")
        } else {
            format!(".corrupt-{stamp}-{n}")
        };
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let target = PathBuf::from(name);
        if !target.exists() {
            std::fs::rename(file, &target).map_err(|e| StoreError::io(file, e))?;
            if let Some(dir) = file.parent() {
                let _ = atomic::sync_dir(dir);
            }
            return Ok(target);
        }
        n += 1;
    }
}

/// The newest `<name>.corrupt-*` beside `file`, if any (names sort by their stamp).
pub(super) fn corrupt_copies(file: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.corrupt-", name.to_string_lossy());
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|l| {
            l.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn latest_corrupt_copy(file: &Path) -> Option<PathBuf> {
    corrupt_copies(file).pop()
}
