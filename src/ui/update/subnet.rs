//! The subnet tool: a menu of the calculator, the article's CIDR table and the trainee quiz.
//! The maths is `core::net`; the calculator's results are computed when drawn, as you type.

use crate::core::net::{self, QuizAnswer, QuizRng};

use super::super::keys::Action;
use super::super::model::{Cursor, Effect, Field, Model, Quiz, Screen};
use super::form::field_action;
use super::{move_cursor, pop, record, scroll_by};
use crate::core::store::Transition;

/// The menu entries, in order.
pub const MENU: [&str; 3] = [
    "Calculator: address and mask, network, broadcast, hosts",
    "CIDR reference table (/32 to /0)",
    "Practice quiz: work out network, broadcast and hosts",
];

const DRAFT: &str = "subnet";

/// Opens the tool's menu (from a tool step or the home screen).
pub(crate) fn open(model: &mut Model) {
    model.subnet_step = None;
    model.screens.push(Screen::SubnetMenu {
        cursor: Cursor::default(),
    });
}

/// A seed for the quiz from the clock text, so questions differ between sessions while
/// `update` stays free of I/O (tests set `now`).
fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A new quiz question from `seed`.
pub fn new_quiz(seed: u64, score: (u32, u32)) -> Quiz {
    let mut rng = QuizRng::new(seed);
    let question = rng.question().subnet;
    Quiz {
        seed: rng.next_u64(),
        question,
        fields: vec![Field::default(); 3],
        focus: 0,
        result: None,
        score,
    }
}

/// Keys on the menu and the CIDR table.
pub(super) fn list_key(model: &mut Model, action: Action, page: usize) -> Vec<Effect> {
    let top = model.screens.len() - 1;
    match (model.screens[top].clone(), action) {
        (_, Action::Back) => pop(model),
        (Screen::SubnetMenu { cursor }, Action::Open) => {
            let screen = match cursor.index {
                0 => Screen::SubnetCalc {
                    fields: model
                        .drafts
                        .get(DRAFT)
                        .cloned()
                        .unwrap_or_else(|| vec![Field::default(); 2]),
                    focus: 0,
                    scroll: 0,
                },
                1 => Screen::CidrTable { scroll: 0 },
                _ => Screen::Quiz(Box::new(new_quiz(seed_of(&model.now), (0, 0)))),
            };
            model.screens.push(screen);
        }
        (Screen::SubnetMenu { cursor }, a) => {
            let index = move_cursor(cursor.index, MENU.len(), a, page);
            model.screens[top] = Screen::SubnetMenu {
                cursor: Cursor { index },
            };
        }
        (Screen::CidrTable { scroll }, a) => {
            let max = net::table_lines().len().saturating_sub(page);
            model.screens[top] = Screen::CidrTable {
                scroll: scroll_by(scroll, a, page).min(max),
            };
        }
        _ => {}
    }
    Vec::new()
}

/// Keys on the calculator.
pub(super) fn calc_key(model: &mut Model, action: Action, page: usize) -> Vec<Effect> {
    if field_action(model, action) {
        return Vec::new();
    }
    let Some(Screen::SubnetCalc {
        fields,
        focus,
        scroll,
    }) = model.screens.last_mut()
    else {
        return Vec::new();
    };
    match action {
        Action::Back => {
            let kept = fields.clone();
            model.drafts.insert(DRAFT.into(), kept);
            pop(model);
            return step_worked_out(model);
        }
        // The results follow the typing; Enter just moves on, as on a paper form.
        Action::Submit => *focus = (*focus + 1) % fields.len().max(1),
        Action::PageUp | Action::PageDown => *scroll = scroll_by(*scroll, action, page),
        _ => {}
    }
    Vec::new()
}

/// Leaving the calculator opened from a tool step with a network worked out: the step is done
/// (the network is its reason), and the network is offered to the first address/prefix field
/// of the runbook's next form step (e.g. SNMP's `allowed_subnet`).
fn step_worked_out(model: &mut Model) -> Vec<Effect> {
    let Some((runbook, step)) = model.subnet_step.clone() else {
        return Vec::new();
    };
    let typed = model
        .drafts
        .get(DRAFT)
        .and_then(|f| f.first())
        .map(|f| f.value.trim().to_string())
        .unwrap_or_default();
    let mut words = typed.split_whitespace();
    let network = match net::calculate(words.next().unwrap_or(""), words.next()) {
        Ok(net::Calculation::V4(s)) => format!("{}/{}", s.network, s.prefix),
        Ok(net::Calculation::V6(s)) => format!("{}/{}", s.network, s.prefix),
        Err(_) => return Vec::new(),
    };
    let offered_to = next_cidr_field(model, &runbook, &step);
    let done = Transition::MarkedDone {
        step,
        reason: Some(format!("worked out in the subnet calculator: {network}")),
    };
    model.message = Some(match offered_to {
        Some((var, label)) => {
            model.offers.insert(var, network.clone());
            format!("Step done: {network}; offered as '{label}' in the next form")
        }
        None => format!("Step done: {network}"),
    });
    vec![record(&runbook, done)]
}

/// The first address/prefix variable (name, label) of the first form step after `step`.
fn next_cidr_field(model: &Model, runbook: &str, step: &str) -> Option<(String, String)> {
    use crate::core::runbook::Action as StepAction;
    let rb = model.runbook(runbook)?;
    let form = rb
        .steps()
        .map(|(_, s)| s)
        .skip_while(|s| s.id != step)
        .skip(1)
        .find_map(|s| match &s.action {
            StepAction::Form { fields } => Some(fields.clone()),
            _ => None,
        })?;
    form.iter().find_map(|n| {
        let v = rb.variable(n)?;
        (v.ty == crate::core::vars::VarType::Cidr).then(|| (n.clone(), v.label.clone()))
    })
}

/// Keys on the quiz: Enter checks the answers, Enter again asks the next question.
pub(super) fn quiz_key(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(Screen::Quiz(q)) = model.screens.last_mut() else {
        return Vec::new();
    };
    if q.result.is_some() && action == Action::Submit {
        let next = new_quiz(q.seed, q.score);
        **q = next;
        return Vec::new();
    }
    if field_action(model, action) {
        return Vec::new();
    }
    let Some(Screen::Quiz(q)) = model.screens.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::Back => pop(model),
        Action::Submit => {
            let answer = QuizAnswer {
                network: q.fields[0].value.clone(),
                broadcast: q.fields[1].value.clone(),
                usable: q.fields[2].value.clone(),
            };
            let result = net::check_quiz(
                &net::QuizQuestion {
                    subnet: q.question.clone(),
                },
                &answer,
            );
            q.score.1 += 1;
            if result.all_ok() {
                q.score.0 += 1;
            }
            q.result = Some(result);
        }
        _ => {}
    }
    Vec::new()
}
