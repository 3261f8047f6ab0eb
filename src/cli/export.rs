//! `fieldbook export ansible ID`: hands a runbook over to Ansible as a playbook that performs
//! the same steps, for when a runbook walked by hand often enough should run on a fleet.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};

use super::{UsageError, exit};
use crate::core::catalog::Catalog;
use crate::core::export::{self, TargetPython};
use crate::core::runbook::Runbook;

/// The engines a runbook can be exported to.
#[derive(Debug, Subcommand)]
pub(crate) enum ExportTo {
    /// Write an Ansible playbook performing the runbook (one task per step).
    Ansible {
        /// Runbook id (see `fieldbook list`).
        id: String,
        /// Python on the managed hosts: `old` (e.g. ClearOS 5's 2.4) makes every action a
        /// quoted `raw` shell command; `modern` uses the natural modules.
        #[arg(long, value_enum, default_value = "modern")]
        target_python: PythonArg,
        /// Only these sections (by id; repeatable), e.g. `--section network`.
        #[arg(long = "section", value_name = "SECTION")]
        sections: Vec<String>,
        /// Write the playbook to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `--target-python` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PythonArg {
    /// Python 2.4-era hosts that current Ansible modules cannot drive.
    Old,
    /// Hosts with a Python current Ansible supports.
    Modern,
}

pub(super) fn run(catalog: &Catalog, to: &ExportTo) -> anyhow::Result<u8> {
    let ExportTo::Ansible {
        id,
        target_python,
        sections,
        output,
    } = to;
    let entry = catalog.get(id).ok_or_else(|| {
        UsageError(format!(
            "unknown runbook '{id}' (known: {})",
            catalog.ids().join(", ")
        ))
    })?;
    let rb = only_sections(&entry.runbook, sections)?;
    let python = match target_python {
        PythonArg::Old => TargetPython::Old,
        PythonArg::Modern => TargetPython::Modern,
    };
    let text = export::playbook(&rb, python);
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(exit::OK)
}

/// The runbook restricted to the named sections (all when none is named).
fn only_sections(rb: &Runbook, sections: &[String]) -> anyhow::Result<Runbook> {
    let mut rb = rb.clone();
    if sections.is_empty() {
        return Ok(rb);
    }
    for s in sections {
        if !rb.sections.iter().any(|x| &x.id == s) {
            let known: Vec<&str> = rb.sections.iter().map(|x| x.id.as_str()).collect();
            return Err(UsageError(format!(
                "runbook '{}' has no section '{s}' (sections: {})",
                rb.id,
                known.join(", ")
            ))
            .into());
        }
    }
    rb.sections.retain(|x| sections.contains(&x.id));
    Ok(rb)
}
