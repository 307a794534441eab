//! How the runs training at once share the cores (docs/performance.md,
//! "Lanes by measurement"), and the wall time of a plan under it: runs
//! side by side in one lane each while every core has a run, and in two
//! lanes once a core is free (`jobs::SecondLane`). Either way each
//! run's bits are the same.

/// One run per two cores, or one per core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// One run per two cores, each epoch in two lanes.
    TwoLanes,
    /// One run per core, each in one lane while every core has a run
    /// (the runs left once a core is free take two).
    SideBySide,
}

impl Sharing {
    /// The runs trained at once under this sharing on `cores` cores.
    pub fn jobs_on(self, cores: usize) -> usize {
        match self {
            Sharing::TwoLanes => (cores / 2).max(1),
            Sharing::SideBySide => cores.max(1),
        }
    }

    /// The sharing that `jobs` runs at once give on `cores` cores: two
    /// lanes each while they leave two cores per run.
    pub fn of_jobs_on(jobs: usize, cores: usize) -> Sharing {
        if 2 * jobs <= cores { Sharing::TwoLanes } else { Sharing::SideBySide }
    }

    /// "two lanes each" or "one lane each": for the messages that name the choice.
    pub fn lanes(self) -> &'static str {
        match self {
            Sharing::TwoLanes => "two lanes each",
            Sharing::SideBySide => "one lane each",
        }
    }
}

/// A run's wall seconds: `alone` with two cores to itself (two lanes),
/// `crowded` with one core while every core has a run (one lane).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunSeconds {
    /// Two lanes on two free cores.
    pub alone: f64,
    /// One lane on one core.
    pub crowded: f64,
}

impl RunSeconds {
    /// The run's seconds with `cores` cores' worth of the machine: one
    /// lane below one core (a share of it), two lanes from two cores on,
    /// and between them the rate (1/seconds) interpolated linearly.
    fn with(&self, cores: f64) -> f64 {
        if cores >= 2.0 {
            self.alone
        } else if cores <= 1.0 {
            self.crowded / cores
        } else {
            1.0 / (1.0 / self.crowded + (cores - 1.0) * (1.0 / self.alone - 1.0 / self.crowded))
        }
    }
}

/// The wall seconds of training `runs` `jobs` at once on `cores` cores,
/// the costliest first, each next run starting as one ends: while k runs
/// train, each has cores/k of the machine ([`RunSeconds::with`]). With
/// `jobs` ≤ cores/2 this is `jobs::makespan` of the runs alone.
pub fn shared_makespan(runs: &[RunSeconds], jobs: usize, cores: usize) -> f64 {
    let mut queue = runs.to_vec();
    queue.sort_by(|a, b| b.alone.total_cmp(&a.alone));
    let mut queue = queue.into_iter();
    // Each training run and the fraction of it left.
    let mut training: Vec<(RunSeconds, f64)> = Vec::new();
    let mut wall = 0.0;
    loop {
        while training.len() < jobs.max(1) {
            let Some(run) = queue.next() else { break };
            training.push((run, 1.0));
        }
        if training.is_empty() {
            return wall;
        }
        let share = cores.max(1) as f64 / training.len() as f64;
        let step = training.iter().map(|(run, left)| left * run.with(share)).fold(f64::INFINITY, f64::min);
        wall += step;
        for (run, left) in training.iter_mut() {
            *left -= step / run.with(share);
        }
        training.retain(|(_, left)| *left > 1e-12);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(count: usize, crowded: f64) -> Vec<RunSeconds> {
        vec![RunSeconds { alone: 1.0, crowded }; count]
    }

    /// Two cores, three equal runs: side by side, two finish together at
    /// the crowded pace and the third takes both cores; in two lanes
    /// they go one after another.
    #[test]
    fn the_last_run_left_takes_both_cores() {
        approx::assert_relative_eq!(shared_makespan(&runs(3, 1.75), 2, 2), 1.75 + 1.0, max_relative = 1e-12);
        approx::assert_relative_eq!(shared_makespan(&runs(3, 1.75), 1, 2), 3.0, max_relative = 1e-12);
    }

    /// With at most one run per two cores, every run is alone: the plain makespan.
    #[test]
    fn two_lanes_is_the_plain_makespan() {
        let seconds = [3.0, 2.5, 2.0, 2.0, 1.0, 0.5];
        let alone: Vec<RunSeconds> = seconds.iter().map(|&alone| RunSeconds { alone, crowded: 9.0 }).collect();
        for (jobs, cores) in [(1, 2), (2, 4), (3, 7)] {
            let plain = crate::jobs::makespan(&seconds, jobs);
            approx::assert_relative_eq!(shared_makespan(&alone, jobs, cores), plain, max_relative = 1e-12);
        }
    }

    /// On three cores one two-lane run leaves a core idle: side by side
    /// wins even where a crowded run takes 2.5 times its time alone
    /// (twelve runs: 4 × 2.5 against 12 × 1).
    #[test]
    fn an_odd_core_count_favours_runs_side_by_side() {
        let side = Sharing::SideBySide.jobs_on(3);
        let two = Sharing::TwoLanes.jobs_on(3);
        assert_eq!((two, side), (1, 3));
        approx::assert_relative_eq!(shared_makespan(&runs(12, 2.5), side, 3), 10.0, max_relative = 1e-12);
        approx::assert_relative_eq!(shared_makespan(&runs(12, 2.5), two, 3), 12.0, max_relative = 1e-12);
    }

    /// Each sharing's job count gives that sharing back; on one core both
    /// are one run, in one lane.
    #[test]
    fn jobs_name_their_sharing() {
        for cores in [2, 3, 8, 32] {
            for sharing in [Sharing::TwoLanes, Sharing::SideBySide] {
                assert_eq!(Sharing::of_jobs_on(sharing.jobs_on(cores), cores), sharing, "{cores} cores");
            }
        }
        assert_eq!((Sharing::TwoLanes.jobs_on(1), Sharing::SideBySide.jobs_on(1)), (1, 1));
        assert_eq!(Sharing::of_jobs_on(1, 1), Sharing::SideBySide);
    }
}
