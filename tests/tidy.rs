//! The house's rules, checked on the source:
//!
//! - every citation `docs/NAME.md, "Heading"` (or `README, "Heading"`) in
//!   the code names a heading that exists;
//! - comments speak of the code as it is, not of its history;
//! - every claim kind and measure kind is documented in docs/claims.md;
//! - no source file over 600 lines, no function over 60 lines outside tests.
//!
//! Each rule is a function over text, tested on a planted violation below,
//! so that the rule itself can fail.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 60;

/// Words that tell a comment is about the project's past.
const HISTORY: [&str; 6] = ["old code", "hostile round", "this round", "last round", "session ", "used to be"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under the given directories of the checkout.
fn sources(dirs: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        walk(&root().join(dir), &mut out);
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The comment text of a Rust file, its lines joined with spaces (a
/// citation may break across lines).
fn comments(source: &str) -> String {
    source
        .lines()
        .filter_map(|line| line.split_once("//").map(|(_, c)| c.trim_start_matches(['/', '!']).trim()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The headings of a markdown file.
fn headings(markdown: &str) -> Vec<String> {
    markdown.lines().filter(|l| l.starts_with('#')).map(|l| l.trim_start_matches('#').trim().to_string()).collect()
}

/// Citations in `text` that name no heading: (document, heading). A
/// citation is `docs/NAME.md, "Heading"` or `README, "Heading"`.
fn dangling_citations(text: &str, heading_of: &dyn Fn(&str) -> Option<Vec<String>>) -> Vec<(String, String)> {
    let mut dangling = Vec::new();
    for (start, _) in text.match_indices("docs/").chain(text.match_indices("README")) {
        let rest = &text[start..];
        let Some(doc_end) = rest.find(|c: char| c == ',' || c.is_whitespace() || c == ')') else { continue };
        let doc = &rest[..doc_end];
        let after = rest[doc_end..].trim_start_matches(',').trim_start();
        let Some(quoted) = after.strip_prefix('"') else { continue };
        let Some(end) = quoted.find('"') else { continue };
        let heading = &quoted[..end];
        let doc = doc.trim_end_matches(['.', ';', ':']);
        match heading_of(doc) {
            Some(list) if list.iter().any(|h| h == heading) => {}
            Some(_) => dangling.push((doc.to_string(), heading.to_string())),
            None if doc.ends_with(".md") || doc == "README" => dangling.push((doc.to_string(), heading.to_string())),
            None => {}
        }
    }
    dangling
}

/// The headings of a document of the checkout named as the code names it.
fn checkout_headings(doc: &str) -> Option<Vec<String>> {
    let path = if doc == "README" { root().join("README.md") } else { root().join(doc) };
    std::fs::read_to_string(path).ok().map(|text| headings(&text))
}

/// Comment fragments that speak of the project's history.
fn history_mentions(comment_text: &str) -> Vec<&'static str> {
    let lower = comment_text.to_lowercase();
    HISTORY.into_iter().filter(|word| lower.contains(word)).collect()
}

/// The variants of `pub enum NAME` in `source`, in kebab-case (serde's `rename_all = "kebab-case"`).
fn kebab_variants(source: &str, name: &str) -> Vec<String> {
    let body = source.split(&format!("pub enum {name} {{")).nth(1).expect("the enum").split("\n}").next().unwrap();
    body.lines()
        .map(str::trim)
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .map(|l| {
            let ident: String = l.chars().take_while(|c| c.is_alphanumeric()).collect();
            let mut kebab = String::new();
            for (i, c) in ident.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            }
            kebab
        })
        .collect()
}

/// Functions longer than `max` lines (from `fn` to its closing brace),
/// outside `#[cfg(test)]` items: (first line, name, lines). Strings,
/// characters and comments are skipped.
fn long_functions(source: &str, max: usize) -> Vec<(usize, String, usize)> {
    let code = strip_literals(source);
    let (mut depth, mut stack, mut pending, mut test_depth) = (0usize, Vec::new(), None, None::<usize>);
    let mut long = Vec::new();
    for (number, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") && test_depth.is_none() {
            test_depth = Some(depth);
        }
        let mut rest = line;
        while let Some(at) = rest.find(['{', '}', ';', 'f']) {
            let c = rest[at..].chars().next().unwrap();
            let word_start = at == 0 || !rest[..at].ends_with(|p: char| p.is_alphanumeric() || p == '_');
            if c == 'f' && word_start && rest[at..].starts_with("fn ") {
                let name: String = rest[at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                pending = Some((number + 1, name));
            } else if c == ';' {
                pending = None;
            } else if c == '{' {
                depth += 1;
                if let Some((start, name)) = pending.take() {
                    stack.push((depth, start, name));
                }
            } else if c == '}' {
                if stack.last().is_some_and(|(d, ..)| *d == depth) {
                    let (_, start, name) = stack.pop().unwrap();
                    let lines = number + 1 - start + 1;
                    if test_depth.is_none() && lines > max {
                        long.push((start, name, lines));
                    }
                }
                depth -= 1;
                if test_depth.is_some_and(|d| depth <= d) && c == '}' {
                    test_depth = None;
                }
            }
            rest = &rest[at + c.len_utf8()..];
        }
    }
    long
}

/// `source` with comments, strings and character literals blanked (line
/// breaks kept), so that braces inside them are not counted.
fn strip_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' || (c == 'r' && matches!(next, Some('"') | Some('#'))) && !prev_is_ident(&chars, i) {
            i = skip_string(&chars, i, &mut out);
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Skip the string literal starting at `i` (plain or raw), keeping its line breaks.
fn skip_string(chars: &[char], mut i: usize, out: &mut String) -> usize {
    if chars[i] == 'r' {
        let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
        if chars.get(i + 1 + hashes) != Some(&'"') {
            out.push('r');
            return i + 1;
        }
        i += 2 + hashes;
        while i < chars.len() {
            if chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
                return i + 1 + hashes;
            }
            if chars[i] == '\n' {
                out.push('\n');
            }
            i += 1;
        }
        return i;
    }
    i += 1;
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\n' {
            out.push('\n');
        }
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

#[test]
fn citations_name_headings_that_exist() {
    let mut dangling = Vec::new();
    for path in sources(&["src", "xtask/src", "tests", "xtask/tests"]).into_iter().filter(|p| !p.ends_with("tidy.rs")) {
        for (doc, heading) in dangling_citations(&comments(&read(&path)), &checkout_headings) {
            dangling.push(format!("{}: {doc}, \"{heading}\"", path.display()));
        }
    }
    assert!(dangling.is_empty(), "citations of headings that do not exist:\n{}", dangling.join("\n"));
}

#[test]
fn comments_speak_of_the_code_as_it_is() {
    let mut found = Vec::new();
    for path in sources(&["src", "xtask/src", "tests", "xtask/tests"]) {
        if path.ends_with("tidy.rs") {
            continue;
        }
        for word in history_mentions(&comments(&read(&path))) {
            found.push(format!("{}: \"{word}\"", path.display()));
        }
    }
    assert!(found.is_empty(), "comments about the project's history:\n{}", found.join("\n"));
}

#[test]
fn every_kind_is_documented() {
    let docs = read(&root().join("docs/claims.md"));
    let measures: Vec<String> = lockin::claims::MeasureSpec::KINDS.iter().map(|k| k.to_string()).collect();
    let claims = kebab_variants(&read(&root().join("src/claims/schema.rs")), "ClaimKind");
    assert!(measures.len() >= 10 && claims.len() >= 5, "{measures:?} {claims:?}");
    let missing: Vec<&String> = measures.iter().chain(&claims).filter(|k| !docs.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "kinds docs/claims.md does not name: {missing:?}");
}

#[test]
fn files_and_functions_are_short() {
    let mut over = Vec::new();
    for path in sources(&["src", "xtask/src"]) {
        let source = read(&path);
        let lines = source.lines().count();
        if lines > MAX_FILE_LINES {
            over.push(format!("{}: {lines} lines (at most {MAX_FILE_LINES})", path.display()));
        }
        for (line, name, length) in long_functions(&source, MAX_FN_LINES) {
            over.push(format!("{}:{line}: fn {name}: {length} lines (at most {MAX_FN_LINES})", path.display()));
        }
    }
    assert!(over.is_empty(), "split these where their concept splits:\n{}", over.join("\n"));
}

/// Each rule finds a planted violation, and passes the same text fixed.
#[test]
fn each_rule_can_fail() {
    let docs = |doc: &str| (doc == "docs/methods.md").then(|| vec!["Collapse".to_string()]);
    let cited = "/// See docs/methods.md, \"Collapse\" and docs/methods.md,\n/// \"Colapse\".\nfn f() {}";
    assert_eq!(dangling_citations(&comments(cited), &docs), vec![("docs/methods.md".into(), "Colapse".into())]);
    assert_eq!(history_mentions(&comments("// on the old code this failed\nlet x = 1;")), vec!["old code"]);
    assert!(history_mentions(&comments("// a run that fails\nlet s = \"old code\";")).is_empty());
    let kinds = "pub enum MeasureSpec {\n    /// doc\n    SignRule(x::X),\n    Lead(y::Y),\n}\n";
    assert_eq!(kebab_variants(kinds, "MeasureSpec"), vec!["sign-rule", "lead"]);
    let body = |n: usize| (0..n).map(|i| format!("    let x{i} = \"}}\"; // {{\n")).collect::<String>();
    let long = format!("fn long() {{\n{}}}\nfn short() {{\n}}\n", body(MAX_FN_LINES));
    assert_eq!(long_functions(&long, MAX_FN_LINES), vec![(1, "long".to_string(), MAX_FN_LINES + 2)]);
    let in_tests = format!("#[cfg(test)]\nmod tests {{\n{long}}}\nfn after() {{\n}}\n");
    assert!(long_functions(&in_tests, MAX_FN_LINES).is_empty());
    let fits = format!("fn fits() {{\n{}}}\n", body(MAX_FN_LINES - 2));
    assert!(long_functions(&fits, MAX_FN_LINES).is_empty());
}
