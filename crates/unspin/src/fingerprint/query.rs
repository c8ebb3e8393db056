//! The query language of the Problematic Paper Screener list: Dimensions search queries.
//!
//! ```text
//! query   := or
//! or      := and ( "OR" and )*
//! and     := unary ( ["AND"] unary | "NOT" unary )*     adjacent operands are ANDed;
//!                                                       `a NOT b` is `a AND NOT b`
//! unary   := "NOT" unary | primary
//! primary := PHRASE [ "~" DIGITS ] | TERM | "(" or ")"
//! ```
//!
//! Precedence is NOT > AND > OR. A `PHRASE` is text between double quotes (no escapes); a `TERM`
//! is a bare word such as `specular` or `COVID-19`. `"a b c"~N` is a proximity atom: every word
//! of the phrase occurs, in any order, within a window of `3 + N` words.
//!
//! Decisions on input the list does not spell out (all found by reading the whole list):
//!
//! - Operators are recognised in any case (`and` between two operands is the operator, a
//!   stop-word would be a useless search term); inside quotes they are plain words.
//! - `ADN`, `NAD`, `NTO`, `ONT` and `RO` are refused as misspelt operators (one row of the list
//!   reads `"total national production" ADN "GDP"`), so that the row is reported instead of
//!   silently never matching.
//! - Wildcards (`*`, `?`), `&&`, `||`, a leading `-` or `+` on a term and other punctuation
//!   outside quotes are errors, as are unbalanced quotes and parentheses, an empty phrase, a
//!   phrase with no letters or digits, and `~` anywhere but right after a closing quote.
//!
//! # Tortured phrases and context
//!
//! A query conditions its report on the whole text (like a Dimensions search over a document),
//! but only some of its atoms are the tortured phrases to report. They are the positive atoms of
//! the *first* operand of an AND chain, recursively through OR and parentheses; atoms in later
//! AND operands are [`Role::Context`], atoms under NOT are [`Role::Negated`]. In
//! `"genetic calculation" AND "genetic algorithm"` only `genetic calculation` is reported, and
//! only in a text that also contains `genetic algorithm`.

use std::fmt;

use super::normalize::{is_word_char, normalize_phrase};

/// Largest accepted `~N`.
pub const MAX_PROXIMITY: u32 = 1000;
/// Deepest accepted nesting of parentheses and NOTs.
pub const MAX_DEPTH: usize = 64;

/// A query that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
#[non_exhaustive]
pub struct QueryError {
    /// 1-based character column in the query where the problem is.
    pub column: usize,
    /// What is wrong, in lowercase.
    pub message: String,
}

impl QueryError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        QueryError {
            column,
            message: message.into(),
        }
    }
}

/// What an atom does in its query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// A tortured phrase: reported where it occurs, when the whole query holds.
    Tortured,
    /// A positive condition on the text, never reported itself.
    Context,
    /// Under a NOT: its presence in the text suppresses the query.
    Negated,
}

/// A leaf of a query: a quoted phrase, a bare term or a proximity phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Atom {
    /// The phrase as written, without its quotes.
    pub text: String,
    /// Whether it was quoted.
    pub quoted: bool,
    /// `Some(n)` for `"…"~n`: the words may occur in any order within `words + n` words.
    pub proximity: Option<u32>,
    /// 1-based character column of the atom in the query.
    pub column: usize,
    /// Tortured phrase, context or negated.
    pub role: Role,
    /// The normal form of `text` (see [`super::normalize`]), never empty.
    pub normalized: String,
}

/// The structure of a query; leaves index [`Query::atoms`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expr {
    /// One atom, by index.
    Atom(usize),
    /// All operands hold (two or more).
    And(Vec<Expr>),
    /// Some operand holds (two or more).
    Or(Vec<Expr>),
    /// The operand does not hold.
    Not(Box<Expr>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    expr: Expr,
    atoms: Vec<Atom>,
}

/// Parses a query; see the module docs for the grammar.
///
/// # Errors
///
/// A [`QueryError`] with the 1-based character column of the first problem.
///
/// # Examples
///
/// ```
/// use unspin::fingerprint::query::{parse, Role};
/// let q = parse(r#""approval information" AND ("validation test" OR "validation dataset")"#)?;
/// let roles: Vec<_> = q.atoms().iter().map(|a| (a.text.as_str(), a.role)).collect();
/// assert_eq!(roles[0], ("approval information", Role::Tortured));
/// assert_eq!(roles[1], ("validation test", Role::Context));
/// assert!(parse(r#""criticism circle"#).is_err());
/// # Ok::<(), unspin::fingerprint::query::QueryError>(())
/// ```
pub fn parse(query: &str) -> Result<Query, QueryError> {
    Query::parse(query)
}

impl Query {
    /// Parses a query; see [`parse`].
    ///
    /// # Errors
    ///
    /// A [`QueryError`] with the 1-based character column of the first problem.
    pub fn parse(query: &str) -> Result<Query, QueryError> {
        let tokens = lex(query)?;
        let end_column = query.chars().count() + 1;
        let mut p = Parser {
            tokens,
            pos: 0,
            atoms: Vec::new(),
            end_column,
        };
        let expr = p.or(0)?;
        if let Some(t) = p.tokens.get(p.pos) {
            return Err(match t.tok {
                Tok::RParen => QueryError::new(t.column, "unmatched `)`"),
                _ => QueryError::new(t.column, format!("unexpected {}", t.tok.describe())),
            });
        }
        let mut q = Query {
            expr,
            atoms: p.atoms,
        };
        let mut tortured = Vec::new();
        tortured_atoms(&q.expr, &mut tortured);
        if tortured.is_empty() {
            return Err(QueryError::new(
                1,
                "query has no phrase to report: every phrase is negated",
            ));
        }
        mark_negated(&q.expr, false, &mut q.atoms);
        for i in tortured {
            q.atoms[i].role = Role::Tortured;
        }
        Ok(q)
    }

    /// The structure of the query.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Every atom, in the order written.
    pub fn atoms(&self) -> &[Atom] {
        &self.atoms
    }

    /// The atoms to report (role [`Role::Tortured`]), in the order written.
    pub fn tortured(&self) -> impl Iterator<Item = &Atom> {
        self.atoms.iter().filter(|a| a.role == Role::Tortured)
    }

    /// Whether the query holds when atom `i` is present exactly when `present(i)`.
    pub fn eval(&self, present: &mut dyn FnMut(usize) -> bool) -> bool {
        eval(&self.expr, present)
    }

    /// The tortured atoms to report when atom `i` is present exactly when `present(i)`: those of
    /// operands that hold, down the branches that hold. Appends atom indices to `out`.
    pub fn reportable(&self, present: &mut dyn FnMut(usize) -> bool, out: &mut Vec<usize>) {
        reportable(&self.expr, present, out);
    }
}

fn eval(e: &Expr, present: &mut dyn FnMut(usize) -> bool) -> bool {
    match e {
        Expr::Atom(i) => present(*i),
        Expr::And(xs) => xs.iter().all(|x| eval(x, present)),
        Expr::Or(xs) => xs.iter().any(|x| eval(x, present)),
        Expr::Not(x) => !eval(x, present),
    }
}

fn reportable(e: &Expr, present: &mut dyn FnMut(usize) -> bool, out: &mut Vec<usize>) {
    match e {
        Expr::Atom(i) => {
            if present(*i) {
                out.push(*i);
            }
        }
        Expr::Or(xs) => {
            for x in xs {
                if eval(x, present) {
                    reportable(x, present, out);
                }
            }
        }
        Expr::And(xs) => {
            if xs.iter().all(|x| eval(x, present)) {
                if let Some(first) = xs.iter().find(|x| has_tortured(x)) {
                    reportable(first, present, out);
                }
            }
        }
        Expr::Not(_) => {}
    }
}

fn has_tortured(e: &Expr) -> bool {
    let mut v = Vec::new();
    tortured_atoms(e, &mut v);
    !v.is_empty()
}

/// The tortured atoms: positive atoms of the first operand (that has any) of each AND chain.
fn tortured_atoms(e: &Expr, out: &mut Vec<usize>) {
    match e {
        Expr::Atom(i) => out.push(*i),
        Expr::Or(xs) => xs.iter().for_each(|x| tortured_atoms(x, out)),
        Expr::And(xs) => {
            for x in xs {
                let before = out.len();
                tortured_atoms(x, out);
                if out.len() > before {
                    break;
                }
            }
        }
        Expr::Not(_) => {}
    }
}

fn mark_negated(e: &Expr, negated: bool, atoms: &mut [Atom]) {
    match e {
        Expr::Atom(i) => {
            atoms[*i].role = if negated {
                Role::Negated
            } else {
                Role::Context
            }
        }
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| mark_negated(x, negated, atoms)),
        Expr::Not(x) => mark_negated(x, true, atoms),
    }
}

impl fmt::Display for Query {
    /// The canonical form: quoted phrases, uppercase operators, parentheses only where needed.
    /// It parses back to the same query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(&self.expr, f, 0)
    }
}

impl Query {
    /// `ctx`: 0 top level or inside OR, 1 inside AND, 2 under NOT.
    fn write(&self, e: &Expr, f: &mut fmt::Formatter<'_>, ctx: u8) -> fmt::Result {
        match e {
            Expr::Atom(i) => {
                let a = &self.atoms[*i];
                if a.quoted {
                    write!(f, "\"{}\"", a.text)?;
                } else {
                    f.write_str(&a.text)?;
                }
                if let Some(n) = a.proximity {
                    write!(f, "~{n}")?;
                }
                Ok(())
            }
            Expr::And(xs) | Expr::Or(xs) => {
                let (op, level) = if matches!(e, Expr::And(_)) {
                    (" AND ", 1)
                } else {
                    (" OR ", 0)
                };
                let paren = ctx > level;
                if paren {
                    f.write_str("(")?;
                }
                for (k, x) in xs.iter().enumerate() {
                    if k > 0 {
                        f.write_str(op)?;
                    }
                    self.write(x, f, level + 1)?;
                }
                if paren {
                    f.write_str(")")?;
                }
                Ok(())
            }
            Expr::Not(x) => {
                f.write_str("NOT ")?;
                self.write(x, f, 2)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Phrase(String),
    Term(String),
    And,
    Or,
    Not,
    LParen,
    RParen,
    Tilde(u32),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Phrase(p) => format!("phrase \"{p}\""),
            Tok::Term(t) => format!("term `{t}`"),
            Tok::And => "AND".into(),
            Tok::Or => "OR".into(),
            Tok::Not => "NOT".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Tilde(n) => format!("`~{n}`"),
        }
    }
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    column: usize,
    /// The `~` follows a closing quote directly.
    glued: bool,
}

fn lex(q: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let glued = i > 0 && chars[i - 1] == '"';
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token {
                    tok: Tok::LParen,
                    column,
                    glued,
                });
                i += 1;
            }
            ')' => {
                out.push(Token {
                    tok: Tok::RParen,
                    column,
                    glued,
                });
                i += 1;
            }
            '"' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or_else(|| QueryError::new(column, "unterminated quoted phrase"))?;
                let text: String = chars[i + 1..i + 1 + close].iter().collect();
                out.push(Token {
                    tok: Tok::Phrase(text),
                    column,
                    glued,
                });
                i += close + 2;
            }
            '~' => {
                let digits = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if digits == 0 {
                    return Err(QueryError::new(column, "expected a number after `~`"));
                }
                let s: String = chars[i + 1..i + 1 + digits].iter().collect();
                let n = s
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n <= MAX_PROXIMITY)
                    .ok_or_else(|| {
                        QueryError::new(
                            column,
                            format!("proximity `~{s}` is too large (at most {MAX_PROXIMITY})"),
                        )
                    })?;
                out.push(Token {
                    tok: Tok::Tilde(n),
                    column,
                    glued,
                });
                i += 1 + digits;
            }
            _ => {
                let len = chars[i..]
                    .iter()
                    .take_while(|&&c| !c.is_whitespace() && !matches!(c, '"' | '(' | ')' | '~'))
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                out.push(Token {
                    tok: word_token(&word, column)?,
                    column,
                    glued,
                });
                i += len;
            }
        }
    }
    Ok(out)
}

fn word_token(word: &str, column: usize) -> Result<Tok, QueryError> {
    match word.to_ascii_uppercase().as_str() {
        "AND" => return Ok(Tok::And),
        "OR" => return Ok(Tok::Or),
        "NOT" => return Ok(Tok::Not),
        "&&" | "&" => {
            return Err(QueryError::new(
                column,
                "`&&` is not an operator: write AND",
            ))
        }
        "||" | "|" => return Err(QueryError::new(column, "`||` is not an operator: write OR")),
        _ => {}
    }
    if let Some(op) = match word {
        "ADN" | "NAD" => Some("AND"),
        "NTO" | "ONT" => Some("NOT"),
        "RO" => Some("OR"),
        _ => None,
    } {
        return Err(QueryError::new(
            column,
            format!("`{word}` is not an operator: write {op}, or quote it as a term"),
        ));
    }
    if word.starts_with(['-', '+']) {
        return Err(QueryError::new(
            column,
            format!(
                "a leading `{}` is not an operator: write NOT, or quote the term",
                &word[..1]
            ),
        ));
    }
    for (k, c) in word.chars().enumerate() {
        let col = column + k;
        if matches!(c, '*' | '?') {
            return Err(QueryError::new(
                col,
                format!("wildcards (`{c}`) are not supported"),
            ));
        }
        let ok = is_word_char(c)
            || matches!(c, '\'' | '-' | '.' | '/' | '&' | '+' | '@' | '#')
            || (!c.is_ascii() && !c.is_control());
        if !ok {
            return Err(QueryError::new(
                col,
                format!("unexpected character {c:?} outside quotes"),
            ));
        }
    }
    Ok(Tok::Term(word.to_string()))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    atoms: Vec<Atom>,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map_or(self.end_column, |t| t.column)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut xs = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            xs.push(self.and_after(depth, "OR")?);
        }
        Ok(flatten(xs, Expr::Or, |e| match e {
            Expr::Or(v) => Ok(v),
            e => Err(e),
        }))
    }

    fn and_after(&mut self, depth: usize, op: &str) -> Result<Expr, QueryError> {
        if self.peek().is_none() {
            return Err(QueryError::new(
                self.end_column,
                format!("expected a phrase after {op}, found the end of the query"),
            ));
        }
        self.and(depth)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut xs = vec![self.unary(depth)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    xs.push(self.unary_after(depth, "AND")?);
                }
                Some(Tok::Not) => {
                    self.pos += 1;
                    let x = self.unary_after(depth + 1, "NOT")?;
                    xs.push(Expr::Not(Box::new(x)));
                }
                Some(Tok::Phrase(_) | Tok::Term(_) | Tok::LParen) => xs.push(self.unary(depth)?),
                Some(Tok::Tilde(_)) => {
                    let column = self.column();
                    return Err(QueryError::new(
                        column,
                        "`~` must follow a closing quote directly",
                    ));
                }
                _ => break,
            }
        }
        Ok(flatten(xs, Expr::And, |e| match e {
            Expr::And(v) => Ok(v),
            e => Err(e),
        }))
    }

    fn unary_after(&mut self, depth: usize, op: &str) -> Result<Expr, QueryError> {
        if self.peek().is_none() {
            return Err(QueryError::new(
                self.end_column,
                format!("expected a phrase after {op}, found the end of the query"),
            ));
        }
        self.unary(depth)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut nots = 0;
        while self.peek() == Some(&Tok::Not) {
            if depth + nots >= MAX_DEPTH {
                return Err(QueryError::new(self.column(), "query nests too deeply"));
            }
            nots += 1;
            self.pos += 1;
        }
        if nots > 0 && self.peek().is_none() {
            return Err(QueryError::new(
                self.end_column,
                "expected a phrase after NOT, found the end of the query",
            ));
        }
        let mut e = self.primary(depth + nots)?;
        for _ in 0..nots {
            e = Expr::Not(Box::new(e));
        }
        Ok(e)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let column = self.column();
        let Some(t) = self.tokens.get(self.pos) else {
            return Err(QueryError::new(column, "empty query"));
        };
        match &t.tok {
            Tok::Phrase(p) => {
                let text = p.clone();
                self.pos += 1;
                let proximity = match self.tokens.get(self.pos) {
                    Some(Token {
                        tok: Tok::Tilde(n),
                        glued: true,
                        ..
                    }) => {
                        self.pos += 1;
                        Some(*n)
                    }
                    _ => None,
                };
                self.atom(text, true, proximity, column)
            }
            Tok::Term(w) => {
                let text = w.clone();
                self.pos += 1;
                self.atom(text, false, None, column)
            }
            Tok::LParen => {
                if depth >= MAX_DEPTH {
                    return Err(QueryError::new(column, "query nests too deeply"));
                }
                self.pos += 1;
                if self.peek() == Some(&Tok::RParen) {
                    return Err(QueryError::new(column, "empty parentheses"));
                }
                if self.peek().is_none() {
                    return Err(QueryError::new(column, "missing `)` to close this `(`"));
                }
                let e = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(QueryError::new(column, "missing `)` to close this `(`"));
                }
                self.pos += 1;
                Ok(e)
            }
            Tok::Tilde(_) => Err(QueryError::new(
                column,
                "`~` must follow a closing quote directly",
            )),
            Tok::RParen => Err(QueryError::new(column, "unmatched `)`")),
            tok @ (Tok::And | Tok::Or | Tok::Not) => Err(QueryError::new(
                column,
                format!("expected a phrase, found {}", tok.describe()),
            )),
        }
    }

    fn atom(
        &mut self,
        text: String,
        quoted: bool,
        proximity: Option<u32>,
        column: usize,
    ) -> Result<Expr, QueryError> {
        if text.trim().is_empty() {
            return Err(QueryError::new(column, "empty phrase"));
        }
        let normalized = normalize_phrase(&text);
        if !normalized.chars().any(is_word_char) {
            return Err(QueryError::new(column, "phrase has no letters or digits"));
        }
        self.atoms.push(Atom {
            text,
            quoted,
            proximity,
            column,
            role: Role::Context,
            normalized,
        });
        Ok(Expr::Atom(self.atoms.len() - 1))
    }
}

/// One operand stays itself; nested chains of the same operator are merged.
fn flatten(
    xs: Vec<Expr>,
    make: fn(Vec<Expr>) -> Expr,
    open: fn(Expr) -> Result<Vec<Expr>, Expr>,
) -> Expr {
    if xs.len() == 1 {
        return xs.into_iter().next().expect("one operand");
    }
    let mut flat = Vec::with_capacity(xs.len());
    for x in xs {
        match open(x) {
            Ok(inner) => flat.extend(inner),
            Err(x) => flat.push(x),
        }
    }
    make(flat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(q: &Query) -> String {
        fn go(q: &Query, e: &Expr) -> String {
            match e {
                Expr::Atom(i) => q.atoms[*i].text.clone(),
                Expr::And(xs) => format!(
                    "and({})",
                    xs.iter().map(|x| go(q, x)).collect::<Vec<_>>().join(",")
                ),
                Expr::Or(xs) => format!(
                    "or({})",
                    xs.iter().map(|x| go(q, x)).collect::<Vec<_>>().join(",")
                ),
                Expr::Not(x) => format!("not({})", go(q, x)),
            }
        }
        go(q, &q.expr)
    }

    #[test]
    fn shapes() {
        for (q, want) in [
            (r#""a b""#, "a b"),
            (r#""a" AND "b""#, "and(a,b)"),
            (r#""a" "b" c"#, "and(a,b,c)"),
            (r#""a" OR "b" AND "c""#, "or(a,and(b,c))"),
            (r#""a" AND ("b" OR "c")"#, "and(a,or(b,c))"),
            (r#""a" NOT b"#, "and(a,not(b))"),
            (r#""a" AND NOT "b" OR c"#, "or(and(a,not(b)),c)"),
            (r#"NOT "x" AND "y""#, "and(not(x),y)"),
            (r#""a"~20 NOT specular"#, "and(a,not(specular))"),
            (r#"("a" AND "b") AND "c""#, "and(a,b,c)"),
            (r#""a" and "b" or "c""#, "or(and(a,b),c)"),
        ] {
            let parsed = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(shape(&parsed), want, "{q}");
            let again = parse(&parsed.to_string()).unwrap();
            assert_eq!(again.expr, parsed.expr, "{q} → {parsed}");
        }
    }

    #[test]
    fn errors() {
        for (q, column, msg) in [
            (r#""criticism circle"#, 1, "unterminated"),
            (r#""a" AND"#, 8, "end of the query"),
            (r#""a" ADN "b""#, 5, "write AND"),
            (r#"("a" OR "b""#, 1, "missing `)`"),
            (r#""a")"#, 4, "unmatched"),
            (r#""a" ~2"#, 5, "closing quote"),
            (r#""a"~"#, 4, "number"),
            (r#""""#, 1, "empty phrase"),
            (r#""-""#, 1, "no letters"),
            (r#"NOT "a""#, 1, "negated"),
            (r#""a" AND b*"#, 10, "wildcard"),
            (r#""a" OR"#, 7, "end of the query"),
            ("", 1, "empty query"),
            ("()", 1, "empty parentheses"),
            ("\"a\" && \"b\"", 5, "write AND"),
        ] {
            let e = parse(q).expect_err(q);
            assert_eq!(e.column, column, "{q}: {e}");
            assert!(e.message.contains(msg), "{q}: {e}");
        }
    }

    #[test]
    fn roles_and_reports() {
        let q = parse(r#""a" OR ("b" AND "c") NOT "d""#).unwrap();
        let roles: Vec<Role> = q.atoms.iter().map(|a| a.role).collect();
        assert_eq!(
            roles,
            [Role::Tortured, Role::Tortured, Role::Context, Role::Negated]
        );
        let report = |present: &[bool]| {
            let mut out = Vec::new();
            q.reportable(&mut |i| present[i], &mut out);
            out
        };
        assert_eq!(report(&[true, true, false, false]), [0]);
        assert_eq!(report(&[true, true, true, false]), [0, 1]);
        assert_eq!(report(&[false, true, true, true]), Vec::<usize>::new());
        assert_eq!(report(&[true, true, true, true]), [0]);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let q = format!("{}\"a\"{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&q).unwrap_err().message.contains("deeply"));
        let q = format!("\"a\" AND {}\"b\"", "NOT ".repeat(10_000));
        assert!(parse(&q).unwrap_err().message.contains("deeply"));
    }
}
