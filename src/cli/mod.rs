//! The command line: clap definitions, global options, exit codes and dispatch. Each subcommand
//! lives in its own file; the TUI is opened when no subcommand is given.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::core::catalog::{CHECKLISTS_ENV, Catalog};
use crate::core::settings::{Settings, TerminalOptions};

mod auto;
mod capture;
mod catalog_cmds;
mod docs;
mod exec;
mod export;
mod fleet;
mod gcc;
mod report;
mod reset;
mod run;
mod runlevels;
pub(crate) mod runs;
mod services;
pub(crate) mod snort;
mod status;
mod subnet;
mod supervise;

/// Documented exit statuses, shared by every subcommand.
pub(crate) use crate::core::exit;
pub(crate) use crate::core::exit::UsageError;

/// fieldbook walks you through sysadmin runbooks, runs the real commands, edits the real files
/// and records every step so the work survives a dropped connection and can be handed over.
#[derive(Debug, Parser)]
#[command(name = "fieldbook", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 success, 1 failure or problems found, 2 usage error, \
3 the step needs the terminal, 4 a long step still runs under its supervisor (exec stopped \
watching it).\nRun without a subcommand to open the app."
)]
pub(crate) struct Cli {
    /// Options every subcommand shares.
    #[command(flatten)]
    pub(crate) global: GlobalOpts,
    /// What to do; none opens the app.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// Options every subcommand shares (where runbooks and state live, which target).
#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalOpts {
    /// Extra runbook directory; a file there with a built-in id replaces the built-in.
    #[arg(long, global = true, value_name = "DIR", env = CHECKLISTS_ENV)]
    pub(crate) checklists: Option<PathBuf>,
    /// State directory (default: /var/lib/fieldbook as root, else $XDG_STATE_HOME/fieldbook).
    #[arg(long, global = true, value_name = "DIR", env = "FIELDBOOK_STATE_DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Which machine this run is for (default: this host's name); one run per target.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) target: Option<String>,
    /// Practice mode: nothing is executed and no file is touched; progress is kept apart.
    #[arg(long, global = true)]
    pub(crate) practice: bool,
    /// Resolve every edited path under DIR (a chroot or a mounted VM image).
    #[arg(long, global = true, value_name = "DIR", env = "FIELDBOOK_ROOT")]
    pub(crate) root: Option<PathBuf>,
    /// Draw with ASCII only (automatic on TERM=vt100/vt102/vt220/dumb or a non-UTF-8 locale).
    #[arg(long, global = true, conflicts_with = "unicode")]
    pub(crate) ascii: bool,
    /// Draw with Unicode line characters even where ASCII would be chosen.
    #[arg(long, global = true)]
    pub(crate) unicode: bool,
    /// No colour (also NO_COLOR); reverse video and bold still mark the selection.
    #[arg(long, global = true)]
    pub(crate) no_color: bool,
    /// Terminal size COLSxROWS, for serial consoles that report 0x0.
    #[arg(long, global = true, value_name = "COLSxROWS")]
    pub(crate) size: Option<String>,
    /// For slow serial links: a running command's output is redrawn at most once a second
    /// (keys are still answered at once).
    #[arg(long, global = true)]
    pub(crate) low_bandwidth: bool,
    /// Draw in the main screen instead of the alternate screen (GNU screen without altscreen).
    #[arg(long, global = true)]
    pub(crate) no_alt_screen: bool,
    /// Use the alternate screen inside GNU screen too (only with `altscreen on` in ~/.screenrc;
    /// without this flag fieldbook draws in the main screen when STY is set).
    #[arg(long, global = true, conflicts_with = "no_alt_screen")]
    pub(crate) alt_screen: bool,
    /// How long the rest of a key sequence split by a slow line may take to arrive before an
    /// Esc counts as Esc, in milliseconds (default 300; 1000 with --low-bandwidth).
    #[arg(
        long,
        global = true,
        value_name = "MS",
        env = "FIELDBOOK_ESCDELAY",
        value_parser = clap::value_parser!(u64).range(0..=10_000)
    )]
    pub(crate) esc_delay: Option<u64>,
    /// Run everything that touches the machine on HOST over OpenSSH (one ControlMaster
    /// connection for the session); state, journal, logs and backups stay here. The target
    /// defaults to HOST without the user.
    #[arg(long, global = true, value_name = "[USER@]HOST")]
    pub(crate) host: Option<String>,
    /// An ssh option for --host, passed as `-o OPT` (repeatable), e.g. `Port=2222`.
    #[arg(long = "ssh-option", global = true, value_name = "OPT")]
    pub(crate) ssh_options: Vec<String>,
    /// An extra ssh argument for --host (repeatable), e.g. `--ssh-arg=-F --ssh-arg=cfg`.
    #[arg(
        long = "ssh-arg",
        global = true,
        value_name = "ARG",
        allow_hyphen_values = true
    )]
    pub(crate) ssh_args: Vec<String>,
    /// fieldbook's private directory on HOST (long steps, edit backups); default
    /// /var/tmp/fieldbook-USER. Created 0700; refused if a symlink or someone else's.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) remote_dir: Option<String>,
    /// The machine opened from these options before anything runs (the ssh master's prompts
    /// come first); not an option. Every command reaches the target through it.
    #[arg(skip)]
    pub(crate) machine: crate::core::machine::SessionMachine,
}

impl GlobalOpts {
    /// The machine these options name: practice, a host over ssh (with `--root`, a chroot
    /// there), a chroot, or this machine.
    pub(crate) fn machine_settings(
        &self,
    ) -> Result<crate::core::machine::MachineSettings, UsageError> {
        let ssh = match &self.host {
            Some(host) => Some(
                crate::core::machine::SshConfig::new(
                    host,
                    self.ssh_options.clone(),
                    self.ssh_args.clone(),
                    self.remote_dir.clone(),
                )
                .map_err(UsageError)?,
            ),
            None => None,
        };
        Ok(crate::core::machine::MachineSettings {
            practice: self.practice,
            root: self.root.clone(),
            ssh,
        })
    }
}

impl GlobalOpts {
    /// The session's one [`Settings`] value, built from these options.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            practice: self.practice,
            root: self.root.clone(),
            state_dir: self.state_dir.clone(),
            target: self
                .target
                .clone()
                .unwrap_or_else(crate::core::host::hostname),
            host: self.host.clone(),
            checklists: self.checklists.clone(),
            terminal: TerminalOptions {
                ascii: self.ascii,
                unicode: self.unicode,
                no_color: self.no_color,
                size: self.size.clone(),
                no_alt_screen: self.no_alt_screen,
                alt_screen: self.alt_screen,
                esc_delay: self.esc_delay,
                low_bandwidth: self.low_bandwidth,
            },
            practice_only: self.practice,
            machine: self.machine.clone(),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List every runbook with its id, title and number of steps.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a runbook's sections and steps.
    Show {
        /// Runbook id (see `fieldbook list`).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also print why each step is done (a handout for a trainee; JSON always has it).
        #[arg(long)]
        why: bool,
    },
    /// Open the app on one runbook (with no subcommand the app opens on the runbook list).
    Run {
        /// Runbook id (see `fieldbook list`).
        id: String,
    },
    /// Validate runbook files; problems are printed as FILE:LINE:COL: message.
    Check {
        /// Runbook TOML files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Every host's progress in one table, asked over ssh (`fieldbook status --json` on each).
    Fleet(fleet::FleetArgs),
    /// Hand a runbook over to an automation engine (Ansible) as a playbook doing the same steps.
    Export {
        /// The engine.
        #[command(subcommand)]
        to: export::ExportTo,
    },
    /// ClearOS services from `chkconfig --list` with the runbook's advice.
    Services {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Print the chkconfig commands that follow the advice (off/on), one per line,
        /// conditional advice marked; with --json, a list of {argv, conditional}.
        #[arg(long)]
        plan: bool,
    },
    /// OpenRC scripts and their runlevels from `rc-update -v show`.
    Runlevels {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// GCC profiles from `gcc-config -l`: the one in use, the newest, how to switch.
    Gcc {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Where every run stands: done/total, failed, skipped, interrupted, last activity, who.
    /// With an id, every step of its runs. `--target` filters. Exit 1 if a state file is
    /// unreadable.
    Status {
        /// Only runs of this runbook, listed step by step.
        id: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The handover report of a run: who, when, every step with status, duration, exit,
    /// reasons, notes and log files, and the edits applied with their diffs.
    Report {
        /// Runbook id.
        id: String,
        /// Markdown (for a ticket) or JSON.
        #[arg(long, value_enum, default_value_t = report::Format::Md)]
        format: report::Format,
        /// The same as --format json, like the other read-out commands.
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell), e.g.
    /// `fieldbook completions bash > /etc/bash_completion.d/fieldbook`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `fieldbook manpage > /usr/local/share/man/man1/fieldbook.1`.
    Manpage,
    /// Start a runbook over on a target; the old run is archived, not deleted.
    Reset {
        /// Runbook id.
        id: String,
        /// Do not ask for confirmation (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Where each known false-positive snort SID stands in the rules (honours --root).
    Snort {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Add your own SID instead of scanning.
        #[command(subcommand)]
        action: Option<snort::SnortAction>,
    },
    /// Run one step without the app: prints its output, records progress and the log.
    /// Exit 0 done, 1 failed, 2 usage error, 3 the step needs the terminal.
    Exec {
        /// Runbook id.
        id: String,
        /// Step id (see `fieldbook show ID`).
        step: String,
        /// A variable value, NAME=VALUE (repeatable); saved with the run except secrets.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Confirm a step that asks for confirmation (destructive steps).
        #[arg(long)]
        yes: bool,
        /// Run the step even though steps it comes after are not done or skipped (the run
        /// records that it was forced).
        #[arg(long)]
        force: bool,
        /// Stop the program a killed supervisor of the step's last attempt left running
        /// (SIGTERM to its process group, SIGKILL after 5 s), then run the step again. Without
        /// it such a retry is refused (exit 1) so two copies never run at once.
        #[arg(long)]
        stop_orphans: bool,
    },
    /// Run forward from the first unfinished step through the steps that need nobody; stop at
    /// the first manual, interactive or destructive step, or at a failure. Steps whose `when`
    /// probe says no are skipped as not needed; a step that asks a question stops it unless
    /// `--answer` answers it.
    Auto {
        /// Runbook id.
        id: String,
        /// A variable value, NAME=VALUE (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Your answer to a step's question (its `when`), STEP=yes or STEP=no (repeatable): yes
        /// runs the step, no skips it as not needed; the answer is recorded in the run.
        #[arg(long = "answer", value_name = "STEP=yes|no")]
        answers: Vec<String>,
        /// Run steps even though steps they come after are not done or skipped (recorded as
        /// forced).
        #[arg(long)]
        force: bool,
    },
    /// Internal: the detached supervisor of a long step.
    #[command(name = "__supervise", hide = true)]
    Supervise {
        /// The attempt's log file.
        log: PathBuf,
    },
    /// Subnet calculator: network, broadcast, usable hosts, the mask in binary.
    #[command(after_help = "Examples:\n  fieldbook subnet 192.168.1.10/24\n  \
fieldbook subnet 192.168.1.10 255.255.255.0 --same-as 192.168.2.1\n  fieldbook subnet --table")]
    Subnet {
        /// Address with /PREFIX or /NETMASK (IPv4), or an IPv6 prefix.
        #[arg(value_name = "ADDRESS", required_unless_present = "table")]
        address: Option<String>,
        /// Netmask or prefix, when not given after a slash.
        #[arg(value_name = "NETMASK")]
        netmask: Option<String>,
        /// Is this address on the same subnet (local) or behind the gateway? Repeatable.
        #[arg(long, value_name = "ADDR")]
        same_as: Vec<String>,
        /// Print the CIDR reference table (/32 to /0).
        #[arg(long)]
        table: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs it, turning every error into a message and an exit code.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = run::version_verbose(&args) {
        return ExitCode::from(code);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // stderr may be a terminal that went away: never panic writing to it.
            use std::io::Write;
            // The message may quote runbook text or a value: no control character gets through.
            let _ = writeln!(
                std::io::stderr(),
                "fieldbook: {}",
                runs::terminal_safe(&format!("{e:#}"))
            );
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// Read-out commands die quietly when their reader goes away (`fieldbook list | head -1`), as
/// Unix filters do, instead of panicking in `println!` on EPIPE. Commands that record progress
/// or drive the terminal keep Rust's default (SIGPIPE ignored, EPIPE as an error) so a closed
/// pipe can never cut a state save short.
fn read_out_dies_on_closed_pipe(command: &Option<Command>) {
    let read_out = matches!(
        command,
        Some(
            Command::List { .. }
                | Command::Show { .. }
                | Command::Check { .. }
                | Command::Status { .. }
                | Command::Report { .. }
                | Command::Completions { .. }
                | Command::Manpage
                | Command::Services { .. }
                | Command::Runlevels { .. }
                | Command::Gcc { .. }
                | Command::Subnet { .. }
                | Command::Export { .. }
        )
    );
    if read_out {
        // SAFETY: setting a signal disposition to its default has no preconditions; it is done
        // before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// True for the commands that touch the machine (and so open `--host`'s connection).
fn touches_machine(command: &Option<Command>) -> bool {
    matches!(
        command,
        None | Some(
            Command::Run { .. }
                | Command::Exec { .. }
                | Command::Auto { .. }
                | Command::Services { .. }
                | Command::Runlevels { .. }
                | Command::Gcc { .. }
                | Command::Snort { .. }
        )
    )
}

/// Opens the session's machine before anything draws (ssh prompts land in the plain
/// terminal); `--host` also names the default target.
fn open_machine(cli: &mut Cli) -> anyhow::Result<()> {
    let settings = cli.global.machine_settings()?;
    if let Some(ssh) = &settings.ssh
        && cli.global.target.is_none()
    {
        cli.global.target = Some(ssh.host_name().to_string());
    }
    if touches_machine(&cli.command) {
        cli.global.machine =
            crate::core::machine::SessionMachine(crate::core::machine::open(&settings)?);
    }
    Ok(())
}

fn run(mut cli: Cli) -> anyhow::Result<u8> {
    read_out_dies_on_closed_pipe(&cli.command);
    if let Err(e) = open_machine(&mut cli) {
        if e.downcast_ref::<UsageError>().is_some() {
            crate::core::stdio::eprint_line(&format!("fieldbook: {e}"));
            return Ok(exit::USAGE);
        }
        return Err(e);
    }
    let result = dispatch(&cli);
    if let Some(session) = cli.global.machine.ssh() {
        session.close();
    }
    result
}

fn dispatch(cli: &Cli) -> anyhow::Result<u8> {
    let catalog = || Catalog::load(cli.global.checklists.as_deref());
    let result = match cli.command {
        None => crate::app::run(cli.global.settings(), catalog(), None),
        Some(Command::Run { ref id }) => {
            crate::app::run(cli.global.settings(), catalog(), Some(id))
        }
        Some(Command::List { json }) => catalog_cmds::list(&catalog(), json),
        Some(Command::Show { ref id, json, why }) => catalog_cmds::show(&catalog(), id, json, why),
        Some(Command::Check { ref files }) => Ok(catalog_cmds::check(files)),
        Some(Command::Exec {
            ref id,
            ref step,
            ref vars,
            yes,
            force,
            stop_orphans,
        }) => exec::exec(
            &cli.global,
            &catalog(),
            id,
            step,
            vars,
            (yes, force, stop_orphans),
        ),
        Some(Command::Auto {
            ref id,
            ref vars,
            ref answers,
            force,
        }) => auto::auto(&cli.global, &catalog(), id, (vars, answers), force),
        Some(Command::Supervise { ref log }) => Ok(supervise::supervise(log)),
        Some(Command::Export { ref to }) => export::run(&catalog(), to),
        Some(Command::Fleet(ref args)) => fleet::run(&cli.global, catalog(), args),
        Some(Command::Services { json, plan }) => services::run(&cli.global, json, plan),
        Some(Command::Runlevels { json }) => runlevels::run(&cli.global, json),
        Some(Command::Gcc { json }) => gcc::run(&cli.global, json),
        Some(Command::Status { ref id, json }) => {
            status::run(&cli.global, &catalog(), id.as_deref(), json)
        }
        Some(Command::Report {
            ref id,
            format,
            json,
        }) => {
            let format = if json { report::Format::Json } else { format };
            report::run(&cli.global, &catalog(), id, format)
        }
        Some(Command::Completions { shell }) => docs::completions(shell),
        Some(Command::Manpage) => docs::manpage(),
        Some(Command::Reset { ref id, yes }) => reset::run(&cli.global, id, yes),
        Some(Command::Snort { json, ref action }) => snort::run(&cli.global, json, action.as_ref()),
        Some(Command::Subnet {
            ref address,
            ref netmask,
            ref same_as,
            table,
            json,
        }) => subnet::run(address.as_deref(), netmask.as_deref(), same_as, table, json),
    };
    match result {
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            crate::core::stdio::eprint_line(&format!("fieldbook: {e}"));
            Ok(exit::USAGE)
        }
        other => other,
    }
}
