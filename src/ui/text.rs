//! Small text helpers the screens share: word wrapping by display width, and showing an argv
//! the way a technician would type it.

pub use crate::core::wrap::wrap;

/// An argv as shown on screen: POSIX-quoted by the one quoter (`core::shell_quote::join`), so
/// a command copied from the screen is safe to paste into a shell (`{}` and `^` quoted too).
pub fn show_argv(argv: &[String]) -> String {
    crate::core::shell_quote::join(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_display_quotes_what_needs_it() {
        let argv: Vec<String> = ["echo", "a b", "it's", ""].map(String::from).into();
        assert_eq!(show_argv(&argv), r"echo 'a b' 'it'\''s' ''");
    }
}
