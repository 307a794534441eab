//! What is wrong in a claim file, as every validation step reports it
//! (the loader adds the file and the line; docs/claims.md, "Fields").

/// What is wrong in a claim file: the field at fault and why (the loader
/// adds the file and the line: [`LoadError`]). Every validation step of
/// the claim files reports in this one shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field, as the file names it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: String, message: String) -> Self {
        Self { field, message }
    }
}
