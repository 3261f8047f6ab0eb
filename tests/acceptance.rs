//! Acceptance against the REAL tools: the built-in runbooks' steps run through `fieldbook exec`
//! against Debian's real OpenRC `rc-update` (in a chroot) and PyPI's real Portage `emerge` (in a
//! private Gentoo-prefix tree), both built by `scripts/acceptance-setup.sh`; and the stubs of the
//! tools no registry has (chkconfig, gcc-config, ...) compared byte for byte with real transcripts.
//!
//! Stubs prove the argv we send; only the real programs prove that our parsers, exit-code
//! handling and runbooks survive contact with reality. The suite needs root (chroot) and the
//! package registries the first time (downloads are cached under `target/tmp/acceptance`). It
//! skips itself with a printed reason when either is missing, unless `FIELDBOOK_ACCEPTANCE=require`
//! (set by `.ci/run`), which turns every skip into a failure.
//!
//! Run it alone: `cargo test --test acceptance` (README, "Acceptance tests against the real tools").

mod common;
#[path = "acceptance/fieldbook.rs"]
mod fieldbook;
#[path = "acceptance/openrc.rs"]
mod openrc;
#[path = "acceptance/portage.rs"]
mod portage;
#[path = "acceptance/setup.rs"]
mod setup;
#[path = "acceptance/stubs.rs"]
mod stubs;
#[path = "acceptance/transcript.rs"]
mod transcript;
