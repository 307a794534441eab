//! What the README's generated parts are made from: both tiers' committed
//! snapshots and the claim files, and the verdict each claim and each of the
//! paper's statements reads as (docs/claims.md, "Grades" and "Statements").

use std::collections::BTreeMap;

use super::snapshot::Snapshot;
use crate::claims::load::Claim;
use crate::claims::schema::ClaimKind;
use crate::claims::{CheckState, Grade};

/// The snapshots of both tiers and the claim files they belong to.
pub struct Recorded<'a> {
    /// Quick-tier snapshots by id.
    pub quick: &'a BTreeMap<String, Snapshot>,
    /// Paper-tier snapshots by id.
    pub paper: &'a BTreeMap<String, Snapshot>,
    /// The claim files (titles and kinds).
    pub claims: &'a [Claim],
    /// Measured fragility of the paper tier's checks ([`super::recorded_fragility`]).
    pub fragile: &'a BTreeMap<(String, String), (usize, usize)>,
}

impl Recorded<'_> {
    /// The snapshot a claim's verdict is read from: the paper tier's, or
    /// the quick tier's where the paper tier has none.
    pub fn deciding(&self, id: &str) -> Option<(&Snapshot, &'static str)> {
        self.paper.get(id).map(|s| (s, "")).or_else(|| self.quick.get(id).map(|s| (s, " (quick tier)")))
    }

    pub fn ids(&self) -> Vec<&String> {
        let mut ids: Vec<&String> = self.quick.keys().chain(self.paper.keys()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    pub fn kind(&self, id: &str) -> ClaimKind {
        self.claims.iter().find(|c| c.raw.id == id).map_or(ClaimKind::Paper, |c| c.raw.kind)
    }

    pub fn title(&self, id: &str) -> String {
        let Some(claim) = self.claims.iter().find(|c| c.raw.id == id) else { return "(no claim file)".into() };
        match claim.raw.kind.label() {
            "" => claim.raw.title.clone(),
            kind => format!("*{kind}:* {}", claim.raw.title),
        }
    }
}

/// A snapshot's grade as a claim of the paper's (None: apart or not judged).
pub fn snapshot_grade(s: &Snapshot, kind: ClaimKind) -> Option<Grade> {
    let measured = s.checks.iter().any(|c| c.state != CheckState::Undefined);
    (kind == ClaimKind::Paper && measured).then(|| s.checks.iter().map(|c| c.grade).max()).flatten()
}

/// Whether the snapshot's verdict rests on lockin's reading.
pub fn by_lockin(s: &Snapshot, grade: Grade) -> bool {
    super::rests_on_lockin(grade, s.checks.iter().filter(|c| c.grade == grade).map(|c| c.reading))
}

/// How a verdict counts: in order from reproduced to not reproduced, so the
/// worst of several is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Count {
    /// Every check inside its tolerance.
    Reproduced,
    /// The worst check within 1.5 printed units.
    Near,
    /// The worst miss rests on lockin's reading.
    Lockin,
    /// Further, or a count of seeds that differs.
    NotReproduced,
}

impl Recorded<'_> {
    /// The claim file of `id`.
    pub fn claim(&self, id: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.raw.id == id)
    }

    /// How claim `id` counts, if it is a claim of the paper with a
    /// recorded, judged verdict.
    pub fn count(&self, id: &str) -> Option<Count> {
        let (s, _) = self.deciding(id)?;
        Some(match snapshot_grade(s, self.kind(id))? {
            g if by_lockin(s, g) => Count::Lockin,
            Grade::Exact => Count::Reproduced,
            Grade::Near => Count::Near,
            Grade::Far => Count::NotReproduced,
        })
    }
}
