//! The subnet tool: a menu of the calculator, the article's CIDR table and the trainee quiz.
//! The maths is `core::net`; the calculator's results are computed when drawn, as you type.

use crate::core::net::{self, QuizAnswer, QuizRng};

use super::super::keys::Action;
use super::super::model::{Cursor, Effect, Field, Model, Quiz, Screen};
use super::form::field_action;
use super::{move_cursor, pop, scroll_by};

/// The menu entries, in order.
pub const MENU: [&str; 3] = [
    "Calculator: address and mask, network, broadcast, hosts",
    "CIDR reference table (/32 to /0)",
    "Practice quiz: work out network, broadcast and hosts",
];

const DRAFT: &str = "subnet";

/// Opens the tool's menu (from a tool step or the home screen).
pub(crate) fn open(model: &mut Model) {
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
        }
        // The results follow the typing; Enter just moves on, as on a paper form.
        Action::Submit => *focus = (*focus + 1) % fields.len().max(1),
        Action::PageUp | Action::PageDown => *scroll = scroll_by(*scroll, action, page),
        _ => {}
    }
    Vec::new()
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
