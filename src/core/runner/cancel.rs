//! Cancelling a running step: SIGINT, SIGTERM, then SIGKILL to its process group, here or on a host.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Lets the UI (or a signal handler) cancel a running step from another thread.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    pub(super) inner: Arc<CancelState>,
}

#[derive(Default)]
pub(super) struct CancelState {
    pub(super) requested: AtomicBool,
    /// Process group of the program running now (0 when none).
    pub(super) pgid: AtomicI32,
    pub(super) grace: std::sync::Mutex<Option<(Duration, Duration)>>,
    /// For a supervised step: the supervisor whose group this is. The group is signalled only
    /// while it still owns that pid (never another process that got the pid later).
    pub(super) owner: std::sync::Mutex<Option<crate::core::attempt_id::Supervisor>>,
    /// The program's group on another machine (over ssh), reached by the machine's own
    /// `kill` instead of a local `killpg`.
    pub(super) remote: std::sync::Mutex<Option<Arc<dyn RemoteGroup>>>,
}

impl std::fmt::Debug for CancelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelState")
            .field("requested", &self.requested)
            .field("pgid", &self.pgid)
            .finish_non_exhaustive()
    }
}

/// A process group on another machine: cancel signals it there and waits until it is gone.
pub trait RemoteGroup: Send + Sync {
    /// Sends signal `sig` to the group.
    fn signal(&self, sig: i32);
    /// True while any process of the group is left.
    fn exists(&self) -> bool;
}

impl CancelHandle {
    /// A handle for a process group that already exists (a supervised step found on start-up).
    pub fn for_group(pgid: u32) -> CancelHandle {
        let h = CancelHandle::default();
        h.set_group(pgid as i32);
        h
    }

    /// A handle for the process group of a supervised step's supervisor, which is signalled
    /// only while that pid is still this supervisor or its orphaned programs.
    pub fn for_supervisor(supervisor: crate::core::attempt_id::Supervisor) -> CancelHandle {
        let h = CancelHandle::for_group(supervisor.pid);
        if let Ok(mut o) = h.inner.owner.lock() {
            *o = Some(supervisor);
        }
        h
    }

    /// True once cancel was asked for.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    pub(super) fn set_group(&self, pgid: i32) {
        self.inner.pgid.store(pgid, Ordering::SeqCst);
    }

    /// Cancel reaches the running program through `group` (a remote process group).
    pub fn set_remote(&self, group: Option<Arc<dyn RemoteGroup>>) {
        if let Ok(mut r) = self.inner.remote.lock() {
            *r = group;
        }
    }

    pub(super) fn remote(&self) -> Option<Arc<dyn RemoteGroup>> {
        self.inner.remote.lock().ok().and_then(|r| r.clone())
    }

    pub(super) fn set_grace(&self, grace: (Duration, Duration)) {
        if let Ok(mut g) = self.inner.grace.lock() {
            *g = Some(grace);
        }
    }

    /// Asks the program to stop: SIGINT to its process group, then SIGTERM, then SIGKILL, each
    /// after a short wait. Returns at once; the step then finishes as cancelled.
    pub fn cancel(&self) {
        if self.inner.requested.swap(true, Ordering::SeqCst) {
            return;
        }
        let inner = self.inner.clone();
        let (int_wait, term_wait) = self
            .inner
            .grace
            .lock()
            .ok()
            .and_then(|g| *g)
            .unwrap_or((Duration::from_secs(3), Duration::from_secs(3)));
        if let Some(remote) = self.remote() {
            let local = self.clone();
            thread::spawn(move || cancel_remote(&*remote, &local, (int_wait, term_wait)));
            return;
        }
        thread::spawn(move || {
            for (sig, wait) in [
                (libc::SIGINT, int_wait),
                (libc::SIGTERM, term_wait),
                (libc::SIGKILL, Duration::ZERO),
            ] {
                let pgid = inner.pgid.load(Ordering::SeqCst);
                if pgid <= 0 || !group_exists(pgid) || !inner.owns_group() {
                    return;
                }
                signal_group(pgid, sig);
                let deadline = Instant::now() + wait;
                while Instant::now() < deadline {
                    let pgid = inner.pgid.load(Ordering::SeqCst);
                    if pgid <= 0 || !group_exists(pgid) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            }
        });
    }

    /// Ends the group at once with SIGTERM then SIGKILL (on hang-up of the UI for a short step,
    /// where nobody is left to watch it). Blocks for at most about a second.
    pub fn end_now(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
        if let Some(remote) = self.remote() {
            remote.signal(libc::SIGTERM);
            remote.signal(libc::SIGKILL);
        }
        let pgid = self.inner.pgid.load(Ordering::SeqCst);
        if pgid <= 0 || !self.inner.owns_group() {
            return;
        }
        signal_group(pgid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_millis(800);
        while Instant::now() < deadline && group_exists(pgid) {
            thread::sleep(Duration::from_millis(20));
        }
        if group_exists(pgid) && self.inner.owns_group() {
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

/// Cancel of a program on another machine: SIGINT, SIGTERM, SIGKILL to its remote group, each
/// after its wait, then the local ssh client's group is ended too.
pub(super) fn cancel_remote(
    remote: &dyn RemoteGroup,
    local: &CancelHandle,
    waits: (Duration, Duration),
) {
    for (sig, wait) in [
        (libc::SIGINT, waits.0),
        (libc::SIGTERM, waits.1),
        (libc::SIGKILL, Duration::ZERO),
    ] {
        if !remote.exists() {
            break;
        }
        remote.signal(sig);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline && remote.exists() {
            thread::sleep(Duration::from_millis(100));
        }
    }
    let pgid = local.inner.pgid.load(Ordering::SeqCst);
    if pgid > 0 && group_exists(pgid) {
        signal_group(pgid, libc::SIGKILL);
    }
}

impl CancelState {
    /// False when the group belongs to a supervisor whose pid is now another process's.
    pub(super) fn owns_group(&self) -> bool {
        self.owner
            .lock()
            .map(|o| {
                o.as_ref()
                    .is_none_or(crate::core::attempt_id::Supervisor::owns_group)
            })
            .unwrap_or(true)
    }
}

/// Sends `sig` to every process of group `pgid`.
pub(super) fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: killpg only sends a signal; a stale group gives ESRCH, which is fine.
    unsafe {
        libc::killpg(pgid, sig);
    }
}

/// True while any process of the group exists.
pub fn group_exists(pgid: i32) -> bool {
    // SAFETY: signal 0 performs only the existence and permission check.
    let r = unsafe { libc::killpg(pgid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}
