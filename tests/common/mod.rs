//! Shared test support: models of every screen (`screens`), the pty harness that drives the
//! real binary (`pty`) and the loopback sshd of the `--host` tests (`sshd`). Each test file
//! uses part of it, so unused items are expected.
#![allow(dead_code)]

pub mod pty;
pub mod screens;
pub mod sizes;
pub mod skip;
pub mod sshd;
