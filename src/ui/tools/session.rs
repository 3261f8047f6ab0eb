//! A tool screen's session: the background work it asks for, the results that come back, what
//! it shows, and how its rows share the screen with the details pane.

use std::collections::BTreeMap;

use crate::core::parse::gcc_config::GccList;
use crate::core::parse::profile_env::ProfileEnv;
use crate::core::progress::AppliedEdit;
use crate::core::runbook::{Edit, ToolKind};
use crate::core::runlevels::RunlevelTable;
use crate::core::services::ServiceTable;
use crate::core::snort::ScanReport;

use crate::ui::layout;
use crate::ui::text::wrap;

/// Background work a tool screen asks of the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolJob {
    /// Read the tool's listing (`chkconfig --list`, `rc-update -v show`, `gcc-config -l`);
    /// in practice mode the loop uses the practice listing instead of running anything.
    List(ToolKind),
    /// Read the target's `/etc/profile.env` (under `--root`) after `env-update`.
    ReadProfileEnv,
    /// Load the SID list (the article's and `<state-dir>/snort-sids.toml`) and scan the
    /// rules directories under `--root`.
    ScanSnort,
    /// Compute the diff the edits would make, touching nothing (shown before asking).
    PreviewEdits {
        /// The edits.
        edits: Vec<Edit>,
    },
    /// Apply edits through the edit engine: backup into the run's archive, atomic write.
    ApplyEdits {
        /// Step id (recorded in each applied edit).
        step: String,
        /// The run's archive directory, relative to the state directory.
        archive: std::path::PathBuf,
        /// The time recorded, RFC 3339 UTC.
        at: String,
        /// The edits.
        edits: Vec<Edit>,
    },
    /// Put a file back from the backup of an applied edit.
    UndoEdit(AppliedEdit),
    /// Add one of the technician's own SIDs to `<state-dir>/snort-sids.toml`.
    AddSid {
        /// The rule's sid.
        sid: u64,
        /// Why.
        reason: String,
    },
}

/// What came back from a [`ToolJob`].
#[derive(Debug, Clone, PartialEq)]
pub enum ToolResult {
    /// A listing's text, or why it could not be read.
    Listing {
        /// Which tool.
        tool: ToolKind,
        /// The listing, or the error to show.
        text: Result<String, String>,
        /// Where it was taken ([`crate::core::settings::Settings::taken_in`] when the job
        /// started): a listing of another mode is never shown or used.
        taken: String,
    },
    /// The re-read profile.env.
    ProfileEnv(Result<ProfileEnv, String>),
    /// The snort scan, and where the rules were read (`this machine`, `under DIR`,
    /// `on HOST`), for the screen's title.
    Snort(Result<ScanReport, String>, String),
    /// The diff the chosen edits would make (empty when the files are already as wanted).
    EditPreview(Result<String, String>),
    /// The edits that were applied, and the error that stopped the rest, if any.
    EditsApplied {
        /// Applied edits, for the run's journal and undo.
        applied: Vec<AppliedEdit>,
        /// What stopped the others.
        error: Option<String>,
    },
    /// An edit was undone (the same record, to mark it), or why not.
    EditUndone(Result<AppliedEdit, String>),
    /// A SID was added (or why not).
    SidAdded(Result<u64, String>),
}

/// What a yes in a tool screen's confirmation does.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolConfirm {
    /// Run these commands as an attempt of the step.
    Run {
        /// The argv vectors.
        commands: Vec<Vec<String>>,
        /// Extra environment.
        env: Vec<(String, String)>,
    },
    /// Apply these edits.
    Edits(Vec<Edit>),
    /// Undo this applied edit.
    Undo(AppliedEdit),
}

/// The GCC screen's data.
#[derive(Debug, Clone, PartialEq)]
pub struct GccView {
    /// The parsed `gcc-config -l`.
    pub list: GccList,
    /// The profile number chosen (the newest, until the technician picks another).
    pub chosen: Option<u32>,
}

/// The Snort screen's data.
#[derive(Debug, Clone, PartialEq)]
pub struct SnortView {
    /// The last scan.
    pub report: ScanReport,
    /// Per SID: `true` disable it, `false` re-enable it.
    pub wanted: BTreeMap<u64, bool>,
}

/// What a tool screen shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolView {
    /// Waiting for the listing.
    Loading,
    /// The listing could not be read (a missing program, a failing tool).
    Unavailable(String),
    /// Services (chkconfig).
    Services(ServiceTable),
    /// Runlevels (rc-update).
    Runlevels(RunlevelTable),
    /// GCC profiles (gcc-config).
    Gcc(GccView),
    /// Snort rules.
    Snort(SnortView),
}

/// The open tool screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSession {
    /// Runbook id of the step that opened it.
    pub runbook: String,
    /// Step id.
    pub step: String,
    /// Which tool.
    pub tool: ToolKind,
    /// What is shown.
    pub view: ToolView,
    /// Selected row.
    pub cursor: usize,
    /// Selected column (Runlevels).
    pub column: usize,
    /// The view as it was when Apply ran: the next listing is checked against its choices.
    pub verifying: Option<ToolView>,
    /// A lasting line under the table: the result of the last apply and check.
    pub notice: Option<String>,
    /// Where the listing shown was taken (`None` until one arrived): changes are worked out
    /// only from a listing taken in the mode in force.
    pub taken: Option<String>,
}

impl ToolSession {
    /// Number of rows the cursor moves over.
    pub fn rows(&self) -> usize {
        match &self.view {
            ToolView::Services(t) => t.rows.len(),
            ToolView::Runlevels(t) => t.rows.len(),
            ToolView::Gcc(g) => g.list.profiles.len(),
            ToolView::Snort(s) => s.report.sids.len(),
            ToolView::Loading | ToolView::Unavailable(_) => 0,
        }
    }
}

/// Rows of a tool table that fit at the current size (frame, header, the lines under it).
pub fn table_rows(size: (u16, u16), session: &ToolSession, details: bool) -> usize {
    let height = u16::try_from(layout::page(size)).unwrap_or(u16::MAX);
    let width = u16::try_from(layout::text_width(size) + 2).unwrap_or(u16::MAX);
    split(session, details, width, height).0
}

/// Lines under a tool table for the selected row's reason and the notice, when shown.
pub const DETAIL_ROWS: usize = 4;

/// Lines the notice may take when the reason is hidden.
const NOTICE_ROWS: usize = 2;

/// Whether the lines under the table are shown only on request (`i`): on the long tables
/// (services, runlevels) they describe the selected row and would be redrawn on every move.
/// The GCC screen's describe the chosen profile and stay put; the snort list is a handful of
/// rules whose files and lines are the point of the screen.
pub fn details_on_request(view: &ToolView) -> bool {
    matches!(view, ToolView::Services(_) | ToolView::Runlevels(_))
}

/// Shares the `height` rows inside the frame between the header, the table and the lines under
/// it: `(table rows, lines under it)`. The selected row's reason is shown only on request
/// (`details`, the `i` key): redrawing it on every move would cost a serial line ten times the
/// move itself. The notice (the last apply's result) is shown either way.
pub fn split(session: &ToolSession, details: bool, width: u16, height: u16) -> (usize, usize) {
    let wanted = if details || !details_on_request(&session.view) {
        // The notice (e.g. the GCC screen's profile.env note, four lines at 80 columns) gets
        // rows of its own on top of the detail's, so neither is cut.
        DETAIL_ROWS
            + session
                .notice
                .as_deref()
                .map_or(0, |n| wrap(n, usize::from(width.saturating_sub(1))).len())
    } else {
        session.notice.as_deref().map_or(0, |n| {
            wrap(n, usize::from(width.saturating_sub(1)))
                .len()
                .min(NOTICE_ROWS)
        })
    };
    let height = usize::from(height);
    let detail_rows = wanted.min(height.saturating_sub(2));
    let list_h = height.saturating_sub(1 + detail_rows).max(1);
    (list_h, detail_rows)
}
