//! An interactive step gets the real terminal: the screen is left, the program runs on a relayed pty, and the app comes back with its output's tail.

use super::*;
use crate::core::exec::{self};
use crate::core::progress::{Exit, Status};
use crate::core::runner::{self, RunOutcome};
use crate::terminal::{self, Session, Signals};
use crate::ui::Msg;
use crate::ui::output_line::OutputLine;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(super) fn in_multiplexer() -> bool {
    std::env::var_os("STY").is_some() || std::env::var_os("TMUX").is_some()
}

/// Gives the real terminal to an interactive step (`emerge --ask`, `etc-update`): leaves raw
/// mode and the alternate screen, runs the programs with the terminal as stdin/stdout/stderr in
/// the foreground, waits, then takes the terminal back and forces a full redraw. The output
/// went to the terminal, so the log only records what ran and how it ended.
pub(crate) fn hand_over(session: &mut Session, signals: &Signals, step: Interactive) -> Vec<Msg> {
    use std::io::Write;
    let alt = session.alt_screen;
    terminal::restore_all();
    let terminate_before = signals.terminate.load(Ordering::SeqCst);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&step.log)
        .ok();
    let mut outcome = RunOutcome {
        status: Status::Done,
        exit: None,
        failed_program: None,
        message: "finished".into(),
    };
    let mut lines = Vec::new();
    let started = Instant::now();
    let size_env = terminal::child_size_env_here((session.size.cols, session.size.rows));
    for (index, command) in step.job.commands.iter().enumerate() {
        let size = (session.size.cols, session.size.rows);
        let ran = run_program(&step, index, size, &size_env, &mut log, &mut lines, signals);
        let exit = match ran {
            Ok(exit) => exit,
            Err(ended) => {
                outcome = ended;
                break;
            }
        };
        if let Some(l) = log.as_mut() {
            let _ = writeln!(l, "\nfieldbook: {exit}");
        }
        outcome.exit = Some(exit);
        if let Some(why) = runner::judge(exit, &step.job.expect, false) {
            outcome = RunOutcome {
                status: Status::Failed,
                exit: Some(exit),
                failed_program: Some(index),
                message: format!("{} failed ({why})", command.display()),
            };
            break;
        }
        outcome.message = format!("finished ({exit})");
    }
    let _ = std::io::stdout().flush();
    // Ctrl-C typed while the child had the terminal reached us too (same process group);
    // it was meant for the child, not for fieldbook.
    if !terminate_before {
        signals.terminate.store(false, Ordering::SeqCst);
    }
    let _ = session.reenter(alt);
    lines.push(OutputLine::plain(format!(
        "fieldbook: back from the interactive step after {} s",
        started.elapsed().as_secs()
    )));
    vec![Msg::Output(lines), Msg::StepEnded(outcome), Msg::Resumed]
}

/// Runs program `index` of an interactive step on the real terminal, every byte it prints to
/// the log and its last lines to `lines`. Its exit, or the outcome that ends the step: the
/// terminal hung up, the link to the host dropped (ssh's own 255 is not the program's result;
/// the program's own 255, recorded on the host, is), or it could not start.
fn run_program(
    step: &Interactive,
    index: usize,
    size: (u16, u16),
    size_env: &[(String, String)],
    log: &mut Option<std::fs::File>,
    lines: &mut Vec<OutputLine>,
    signals: &Signals,
) -> Result<Exit, RunOutcome> {
    use std::io::Write;
    let command = &step.job.commands[index];
    crate::core::stdio::print_line(&format!("\r\n$ {}", command.display()));
    if let Some(l) = log.as_mut() {
        let _ = writeln!(
            l,
            "$ {} (interactive: every byte it printed follows)",
            command.display()
        );
    }
    lines.push(OutputLine::plain(format!(
        "$ {} (interactive)",
        command.display()
    )));
    let interrupted = |message: String| RunOutcome {
        status: Status::Interrupted,
        exit: None,
        failed_program: Some(index),
        message,
    };
    let done = exec::run_foreground(
        &step.owner.settings.machine.0,
        command,
        size,
        size_env,
        log.as_mut().map(|l| l as &mut dyn Write),
        &signals.hangup,
    )
    .map_err(|message| RunOutcome {
        status: Status::Failed,
        exit: None,
        failed_program: Some(index),
        message,
    })?;
    // What it printed, as the Output screen shows any command's output.
    lines.extend(tail_lines(&done.tail));
    if done.hung_up {
        if let Some(l) = log.as_mut() {
            let _ = writeln!(l, "\nfieldbook: the terminal hung up");
        }
        return Err(interrupted(
            "interrupted: the terminal hung up while the interactive program ran; its own \
             result is unknown"
                .into(),
        ));
    }
    match done.link_lost {
        Some(message) => Err(interrupted(message)),
        None => Ok(done.exit),
    }
}

/// The lines an interactive program left, for the Output screen (the screen keeps its own
/// bound; the log has every byte).
pub(super) fn tail_lines(tail: &[u8]) -> Vec<OutputLine> {
    let mut filter = crate::core::terminal_text::TerminalText::new();
    let mut styled = Vec::new();
    filter.feed(tail, &mut styled);
    filter.finish(&mut styled);
    styled.into_iter().map(OutputLine::from_child).collect()
}
