//! Turning runbook text with `{name}` placeholders into Ansible strings, which Ansible renders
//! with Jinja2: `{name}` becomes `{{ name }}`, and literal text that Jinja would read as a
//! template (`{{`, `{%`, `{#`) is kept literal.

use crate::core::shell_quote;
use crate::core::vars;
use crate::core::yaml::Yaml;

/// One piece of a string Ansible will render.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Text that must come out exactly as written.
    Lit(String),
    /// A Jinja expression, e.g. `gateway` or `gateway | quote`.
    Expr(String),
}

/// Splits a runbook template into literal text and variable references, read by the one
/// scanner, [`vars::scan`] (`{{`/`}}` are literal braces, `${...}` is left for the shell, only
/// identifiers are variables).
pub fn pieces(template: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    for part in vars::scan(template) {
        match part {
            vars::Part::Text(t) => lit.push_str(t),
            vars::Part::Var { name, .. } => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Expr(name.to_string()));
            }
            // The part of `address/prefix` the template names, cut by Jinja from the value.
            vars::Part::CidrPart { name, part, .. } => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Expr(format!(
                    "({name}.split('/')[{}])",
                    part.split_index()
                )));
            }
        }
    }
    if !lit.is_empty() || out.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// The pieces of a template used as one shell word: literal text shell-quoted, each variable
/// quoted by Ansible's `quote` filter at run time. Adjacent quoted parts concatenate into a
/// single word in the shell, so the argument stays one argument whatever the value is.
pub fn shell_word(template: &str) -> Vec<Piece> {
    pieces(template)
        .into_iter()
        .map(|p| match p {
            Piece::Lit(s) => Piece::Lit(shell_quote::quote(&s)),
            Piece::Expr(e) => Piece::Expr(format!("{e} | quote")),
        })
        .collect()
}

/// A whole argv as one shell command line (for `raw`).
pub fn shell_line(argv: &[String]) -> Vec<Piece> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(Piece::Lit(" ".into()));
        }
        out.extend(shell_word(arg));
    }
    out
}

/// Renders pieces as the YAML value Ansible will template into exactly the intended text.
pub fn render(pieces: &[Piece]) -> Yaml {
    let has_expr = pieces.iter().any(|p| matches!(p, Piece::Expr(_)));
    let text: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.clone(),
            Piece::Expr(e) => format!("{{{{ {e} }}}}"),
        })
        .collect();
    if !has_expr {
        // Text with nothing to template is data: `!unsafe`, so no version of Ansible ever
        // renders it, whatever it contains.
        return Yaml::Unsafe(text);
    }
    // Jinja only reads `{{`, `{%` and `{#` in text; a literal ending in `{` right before an
    // expression would make `{{{`.
    let braces_in_literals = pieces.iter().enumerate().any(|(i, p)| match p {
        Piece::Lit(s) => {
            looks_like_template(s)
                || (s.ends_with('{') && matches!(pieces.get(i + 1), Some(Piece::Expr(_))))
        }
        Piece::Expr(_) => false,
    });
    if !braces_in_literals {
        return Yaml::Str(text);
    }
    // Literal braces next to expressions: write one Jinja expression concatenating string
    // literals, so nothing in the literal text can open or close a template.
    let parts: Vec<String> = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => jinja_string(s),
            Piece::Expr(e) => format!("({e})"),
        })
        .collect();
    Yaml::Str(format!("{{{{ {} }}}}", parts.join(" ~ ")))
}

/// Shorthand: a runbook template as an Ansible string.
pub fn template(template: &str) -> Yaml {
    render(&pieces(template))
}

/// True when Jinja would treat some of `text` as template syntax.
pub fn looks_like_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// A Jinja string literal.
pub fn jinja_string(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_become_jinja_and_escapes_stay_literal() {
        assert_eq!(
            template("mac={mac},bridge={bridge}"),
            Yaml::str("mac={{ mac }},bridge={{ bridge }}")
        );
        assert_eq!(template("plain"), Yaml::Unsafe("plain".into()));
        assert_eq!(
            template("echo ${HOME}"),
            Yaml::Unsafe("echo ${HOME}".into())
        );
        assert_eq!(template("{{literal}}"), Yaml::Unsafe("{literal}".into()));
        assert_eq!(template("{{{{x}}}}"), Yaml::Unsafe("{{x}}".into()));
        assert_eq!(template("{#x}"), Yaml::Unsafe("{#x}".into()));
    }

    #[test]
    fn literal_braces_beside_a_variable_use_one_expression() {
        assert_eq!(template("{{{a}}}"), Yaml::str("{{ '{' ~ (a) ~ '}' }}"));
        assert_eq!(template("it's {a} 100%"), Yaml::str("it's {{ a }} 100%"));
        assert_eq!(
            template("{{{{{a} {{%"),
            Yaml::str("{{ '{{' ~ (a) ~ ' {%' }}")
        );
    }

    #[test]
    fn a_cidr_part_is_cut_from_the_value_by_jinja() {
        assert_eq!(
            template("inet {net.address}  /{net.prefix}"),
            Yaml::str("inet {{ (net.split('/')[0]) }}  /{{ (net.split('/')[-1]) }}")
        );
        assert_eq!(
            render(&shell_word("{net.address}")),
            Yaml::str("{{ (net.split('/')[0]) | quote }}")
        );
    }

    #[test]
    fn shell_words_quote_literals_and_filter_variables() {
        let p = shell_line(&[
            "ip".into(),
            "addr".into(),
            "add".into(),
            "{addr}/24".into(),
            "it's".into(),
        ]);
        assert_eq!(
            render(&p),
            Yaml::str("ip addr add {{ addr | quote }}/24 'it'\\''s'")
        );
    }
}
