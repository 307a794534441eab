//! Modular polynomials in the two operands (docs/methods.md, "Tasks"):
//! `poly:x^2+x*y+y^2` labels (a, b) by the polynomial's value at x = a,
//! y = b, mod M, computed exactly in integers.
//!
//! Grammar (a small recursive-descent parser; spaces are ignored):
//!
//! ```text
//! sum     := product (("+" | "-") product)*
//! product := unary (("*")? unary)*        (juxtaposition multiplies: 2xy)
//! unary   := "-" unary | power
//! power   := atom (("^" | "**") exponent)?
//! atom    := integer | "a" | "b" | "x" | "y" | "(" sum ")"
//! ```
//!
//! `a` and `x` both name the first operand, `b` and `y` the second; the
//! normalised text ([`Poly::text`]), part of a run's key, writes them `x`
//! and `y`, without spaces, with only the parentheses precedence needs.

/// A polynomial's syntax tree.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Expr {
    /// An integer constant.
    Const(u64),
    /// The first operand, a.
    X,
    /// The second operand, b.
    Y,
    /// −e.
    Neg(Box<Expr>),
    /// l + r.
    Add(Box<Expr>, Box<Expr>),
    /// l − r.
    Sub(Box<Expr>, Box<Expr>),
    /// l · r.
    Mul(Box<Expr>, Box<Expr>),
    /// eⁿ.
    Pow(Box<Expr>, u32),
}

/// Largest exponent accepted (eⁿ is computed by squaring, so any would do;
/// this bounds a typo's cost).
pub const MAX_EXPONENT: u64 = 1 << 20;

/// A parsed polynomial in x = a and y = b.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Poly {
    expr: Expr,
}

impl Poly {
    /// Parse `text`; the error names the character position (1-based) and
    /// what was expected there.
    pub fn parse(text: &str) -> Result<Poly, String> {
        let mut parser = Parser { chars: text.chars().collect(), at: 0 };
        let expr = parser.sum()?;
        parser.skip_spaces();
        if let Some(c) = parser.peek() {
            return Err(parser.error(&format!("unexpected `{c}` after a complete expression")));
        }
        Ok(Poly { expr })
    }

    /// The normalised text: `x`, `y`, `+ - * ^`, no spaces, parentheses
    /// only where precedence needs them (`x^2+x*y+y^2`).
    pub fn text(&self) -> String {
        write(&self.expr, 0)
    }

    /// The value at x = a, y = b, mod `modulus`, exact.
    pub fn eval(&self, a: usize, b: usize, modulus: usize) -> usize {
        eval(&self.expr, a as u64 % modulus as u64, b as u64 % modulus as u64, modulus as u64) as usize
    }
}

fn eval(e: &Expr, x: u64, y: u64, m: u64) -> u64 {
    let mul = |p: u64, q: u64| ((p as u128 * q as u128) % m as u128) as u64;
    match e {
        Expr::Const(c) => c % m,
        Expr::X => x,
        Expr::Y => y,
        Expr::Neg(e) => (m - eval(e, x, y, m)) % m,
        Expr::Add(l, r) => ((eval(l, x, y, m) as u128 + eval(r, x, y, m) as u128) % m as u128) as u64,
        Expr::Sub(l, r) => ((eval(l, x, y, m) as u128 + (m - eval(r, x, y, m)) as u128) % m as u128) as u64,
        Expr::Mul(l, r) => mul(eval(l, x, y, m), eval(r, x, y, m)),
        Expr::Pow(e, n) => {
            let (mut base, mut n, mut acc) = (eval(e, x, y, m), *n, 1 % m);
            while n > 0 {
                if n & 1 == 1 {
                    acc = mul(acc, base);
                }
                base = mul(base, base);
                n >>= 1;
            }
            acc
        }
    }
}

/// Binding strength: sums 1, products 2, negation 3, powers 4, atoms 5.
fn strength(e: &Expr) -> u8 {
    match e {
        Expr::Add(..) | Expr::Sub(..) => 1,
        Expr::Mul(..) => 2,
        Expr::Neg(_) => 3,
        Expr::Pow(..) => 4,
        Expr::Const(_) | Expr::X | Expr::Y => 5,
    }
}

/// `e` as text, in parentheses when it binds less than `context` needs.
fn write(e: &Expr, context: u8) -> String {
    let text = match e {
        Expr::Const(c) => c.to_string(),
        Expr::X => "x".into(),
        Expr::Y => "y".into(),
        Expr::Neg(inner) => format!("-{}", write(inner, 3)),
        // The right operand of a sum binds tighter: x-(y+1) keeps its parentheses.
        Expr::Add(l, r) => format!("{}+{}", write(l, 1), write(r, 2)),
        Expr::Sub(l, r) => format!("{}-{}", write(l, 1), write(r, 2)),
        Expr::Mul(l, r) => format!("{}*{}", write(l, 2), write(r, 3)),
        Expr::Pow(base, n) => format!("{}^{n}", write(base, 5)),
    };
    if strength(e) < context { format!("({text})") } else { text }
}

/// The parser's state: the text and the position of the next character.
struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    /// The next character that is not a space.
    fn peek(&mut self) -> Option<char> {
        self.skip_spaces();
        self.chars.get(self.at).copied()
    }

    /// Whether the text continues with `token` (then consumed).
    fn eat(&mut self, token: &str) -> bool {
        self.skip_spaces();
        let matches = token.chars().enumerate().all(|(i, c)| self.chars.get(self.at + i) == Some(&c));
        if matches {
            self.at += token.chars().count();
        }
        matches
    }

    fn error(&self, what: &str) -> String {
        format!("at character {} of the polynomial: {what}", self.at + 1)
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        loop {
            if self.eat("+") {
                left = Expr::Add(Box::new(left), Box::new(self.product()?));
            } else if self.eat("-") {
                left = Expr::Sub(Box::new(left), Box::new(self.product()?));
            } else {
                return Ok(left);
            }
        }
    }

    /// Factors joined by `*` or written side by side (`2xy`, `x(y+1)`).
    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let explicit = self.peek() == Some('*') && self.chars.get(self.at + 1) != Some(&'*');
            let starts_factor = matches!(self.peek(), Some(c) if c.is_ascii_digit() || "abxy(".contains(c));
            if explicit {
                self.at += 1;
            } else if !starts_factor {
                return Ok(left);
            }
            left = Expr::Mul(Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("-") { Ok(Expr::Neg(Box::new(self.unary()?))) } else { self.power() }
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.atom()?;
        if !(self.eat("^") || self.eat("**")) {
            return Ok(base);
        }
        self.skip_spaces();
        let start = self.at;
        match self.integer()? {
            Some(n) if n <= MAX_EXPONENT => Ok(Expr::Pow(Box::new(base), n as u32)),
            Some(n) => {
                self.at = start;
                Err(self.error(&format!("exponent {n} is above {MAX_EXPONENT}")))
            }
            None => Err(self.error("expected a whole-number exponent after `^`")),
        }
    }

    fn atom(&mut self) -> Result<Expr, String> {
        if let Some(n) = self.integer()? {
            return Ok(Expr::Const(n));
        }
        let expr = match self.peek() {
            Some('a' | 'x') => Expr::X,
            Some('b' | 'y') => Expr::Y,
            Some('(') => {
                self.at += 1;
                let inner = self.sum()?;
                if !self.eat(")") {
                    return Err(self.error("expected `)`"));
                }
                return Ok(inner);
            }
            Some(c) => {
                return Err(self.error(&format!("expected a number, a variable (a, b, x, y) or `(`, found `{c}`")));
            }
            None => return Err(self.error("expected a number, a variable (a, b, x, y) or `(`, found the end")),
        };
        self.at += 1;
        Ok(expr)
    }

    /// A run of digits, if one starts here.
    fn integer(&mut self) -> Result<Option<u64>, String> {
        self.skip_spaces();
        let start = self.at;
        while self.chars.get(self.at).is_some_and(char::is_ascii_digit) {
            self.at += 1;
        }
        if start == self.at {
            return Ok(None);
        }
        let digits: String = self.chars[start..self.at].iter().collect();
        digits.parse().map(Some).map_err(|_| {
            self.at = start;
            self.error(&format!("{digits} does not fit in 64 bits"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        Poly::parse(s).unwrap().text()
    }

    #[test]
    fn precedence_and_normal_form() {
        assert_eq!(text("x^2 + x*y + y^2"), "x^2+x*y+y^2");
        assert_eq!(text("a^2 + ab + b^2"), "x^2+x*y+y^2", "a, b are x, y; juxtaposition multiplies");
        assert_eq!(text("2xy"), "2*x*y");
        assert_eq!(text("(x + y)^3"), "(x+y)^3");
        assert_eq!(text("x - (y + 1)"), "x-(y+1)");
        assert_eq!(text("(x - y) + 1"), "x-y+1", "left-associative: no parentheses needed");
        assert_eq!(text("-x^2"), "-x^2", "the power binds tighter than the minus");
        assert_eq!(text("(-x)^2"), "(-x)^2");
        assert_eq!(text("x ** 3 * 2"), "x^3*2");
        assert_eq!(text("x*(y*2)"), "x*(y*2)");
    }

    #[test]
    fn values_mod_m() {
        let p = Poly::parse("x^2 + x*y + y^2").unwrap();
        assert_eq!(p.eval(3, 5, 7), (9 + 15 + 25) % 7);
        assert_eq!(Poly::parse("x - y").unwrap().eval(1, 3, 5), 3, "−2 mod 5");
        assert_eq!(Poly::parse("-x").unwrap().eval(0, 0, 5), 0);
        assert_eq!(Poly::parse("x^0").unwrap().eval(0, 0, 5), 1);
        assert_eq!(Poly::parse("x^0").unwrap().eval(4, 0, 1), 0, "mod 1 everything is 0");
        // Exact where f64 or u64 would overflow: 2^64 mod 71 and a 20-digit constant.
        assert_eq!(Poly::parse("2^64").unwrap().eval(0, 0, 71), (0..64).fold(1, |acc, _| acc * 2 % 71));
        assert_eq!(
            Poly::parse("18446744073709551615 * x").unwrap().eval(2, 0, 71),
            (u64::MAX as u128 * 2 % 71) as usize
        );
        // Each label agrees with the naive evaluation in i128.
        let q = Poly::parse("3x^3 - 2xy + (y - 5)^2").unwrap();
        for (a, b) in [(0, 0), (1, 70), (70, 70), (35, 12)] {
            let (x, y) = (a as i128, b as i128);
            let want = (3 * x.pow(3) - 2 * x * y + (y - 5).pow(2)).rem_euclid(71) as usize;
            assert_eq!(q.eval(a, b, 71), want, "({a}, {b})");
        }
    }

    #[test]
    fn errors_name_the_position() {
        let err = |s: &str| Poly::parse(s).unwrap_err();
        assert_eq!(
            err("x + * y"),
            "at character 5 of the polynomial: expected a number, a variable (a, b, x, y) or `(`, found `*`"
        );
        assert_eq!(err("(x + y"), "at character 7 of the polynomial: expected `)`");
        assert_eq!(err("x^y"), "at character 3 of the polynomial: expected a whole-number exponent after `^`");
        assert_eq!(
            err("x + z"),
            "at character 5 of the polynomial: expected a number, a variable (a, b, x, y) or `(`, found `z`"
        );
        assert_eq!(err("x)"), "at character 2 of the polynomial: unexpected `)` after a complete expression");
        assert!(err("x^9999999").contains("exponent 9999999 is above"));
        assert!(err("99999999999999999999").contains("does not fit in 64 bits"));
        assert!(err("").contains("found the end"));
    }
}
