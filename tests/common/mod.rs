//! Shared test support: models of every screen (`screens`) and the pty harness that drives the
//! real binary (`pty`). Each test file uses part of it, so unused items are expected.
#![allow(dead_code)]

pub mod pty;
pub mod screens;
pub mod sizes;
pub mod skip;
