//! Each queue message's fate, decided on its own: stored (ack), retried
//! later (an outage), or set aside with its reason (dead-lettered) — so one
//! message ClickHouse refuses never holds back the others of its batch.
//!
//! - [`Bisect`] finds the rows ClickHouse refuses: a refused INSERT is split
//!   in halves until each refused row stands alone, and the rest are stored.
//! - [`RetryBudget`] spaces the retries of an outage by the message's age
//!   and, once the budget is spent, sets the message aside.

/// What becomes of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Stored: acknowledge it.
    Stored,
    /// Not stored yet, through no fault of its own: deliver it again.
    Retry,
    /// Never storable as it is: set it aside with the reason.
    DeadLetter(String),
}

/// The search for the rows ClickHouse refuses, over row indices. Ask for a
/// [`Bisect::next_group`] group, insert it, [`Bisect::record`] the answer; repeat.
#[derive(Debug, Clone)]
pub struct Bisect {
    pending: Vec<Vec<usize>>,
    fates: Vec<Option<Fate>>,
    inserts: usize,
    max_inserts: usize,
}

impl Bisect {
    /// A search over `rows` rows, all in one first INSERT, making at most
    /// `max_inserts` INSERTs (the platform limits a consumer's requests);
    /// rows still undecided after that are retried.
    pub fn new(rows: usize, max_inserts: usize) -> Bisect {
        Bisect {
            pending: if rows == 0 {
                vec![]
            } else {
                vec![(0..rows).collect()]
            },
            fates: vec![None; rows],
            inserts: 0,
            max_inserts,
        }
    }

    /// The next group of rows to insert together, if any.
    pub fn next_group(&mut self) -> Option<Vec<usize>> {
        if self.inserts >= self.max_inserts {
            return None;
        }
        let group = self.pending.pop()?;
        self.inserts += 1;
        Some(group)
    }

    /// ClickHouse's answer to inserting `group`: stored; an outage (which
    /// ends the search: what is left is retried); or refused — a lone row is
    /// dead-lettered with `error`, a larger group is split in two.
    pub fn record(&mut self, group: Vec<usize>, delivery: super::batch::Delivery, error: &str) {
        use super::batch::Delivery;
        match delivery {
            Delivery::Stored => self.decide(&group, Fate::Stored),
            Delivery::Retry => {
                self.decide(&group, Fate::Retry);
                self.pending.clear();
            }
            Delivery::Poison if group.len() == 1 => self.decide(
                &group,
                Fate::DeadLetter(format!("ClickHouse refused the row: {error}")),
            ),
            Delivery::Poison => {
                let (first, second) = group.split_at(group.len() / 2);
                // popped last-in first: the first half goes first
                self.pending.push(second.to_vec());
                self.pending.push(first.to_vec());
            }
        }
    }

    fn decide(&mut self, group: &[usize], fate: Fate) {
        for &row in group {
            self.fates[row] = Some(fate.clone());
        }
    }

    /// Each row's fate; a row the search did not reach is retried.
    pub fn fates(self) -> Vec<Fate> {
        self.fates
            .into_iter()
            .map(|fate| fate.unwrap_or(Fate::Retry))
            .collect()
    }
}

/// How long a message is retried through an outage before it is set aside,
/// and how the retries are spaced: half the message's age, at least
/// `budget / 51,840` (5 s of 72 h) and at most `budget / 72` (1 h of 72 h) —
/// soon after a blip, hourly through a long outage. Scaled to the budget, a
/// test can run the whole schedule on a compressed clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    pub seconds: u64,
}

impl RetryBudget {
    /// 72 hours: a weekend-long outage; within a Cloudflare Queue's default
    /// retention (4 days) and, with the delays above, within its 100 retries.
    pub const DEFAULT: RetryBudget = RetryBudget { seconds: 72 * 3600 };

    /// The delay before the next delivery of a message `age_seconds` old, or
    /// `None` when its budget is spent (it is set aside instead).
    pub fn delay(self, age_seconds: u64) -> Option<u32> {
        if age_seconds >= self.seconds {
            return None;
        }
        let shortest = (self.seconds / 51_840).max(1);
        let longest = (self.seconds / 72).max(shortest);
        let delay = (age_seconds / 2).clamp(shortest, longest);
        // never past the budget by more than one step, and within the
        // queue's 12-hour limit on one delay
        Some(delay.min(43_200) as u32)
    }
}

/// What the consumer does with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Ack,
    RetryAfter(u32),
    SetAside(String),
}

impl RetryBudget {
    /// A message's fate, `age_seconds` after it was queued, as an action: a
    /// retry past the budget sets the message aside, saying why.
    pub fn action(self, fate: Fate, age_seconds: u64, last_error: &str) -> Action {
        match fate {
            Fate::Stored => Action::Ack,
            Fate::DeadLetter(reason) => Action::SetAside(reason),
            Fate::Retry => match self.delay(age_seconds) {
                Some(delay) => Action::RetryAfter(delay),
                None => Action::SetAside(format!(
                    "not stored within the retry budget ({} s): {last_error}",
                    self.seconds
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::Delivery;
    use super::*;

    /// Runs a search against an engine that refuses the rows in `bad` (and
    /// has an outage from the `outage_at`-th INSERT on).
    fn search(
        rows: usize,
        bad: &[usize],
        outage_at: Option<usize>,
        max: usize,
    ) -> (Vec<Fate>, usize) {
        let mut bisect = Bisect::new(rows, max);
        let mut inserts = 0;
        while let Some(group) = bisect.next_group() {
            inserts += 1;
            let delivery = if outage_at.is_some_and(|at| inserts >= at) {
                Delivery::Retry
            } else if group.iter().any(|row| bad.contains(row)) {
                Delivery::Poison
            } else {
                Delivery::Stored
            };
            bisect.record(group, delivery, "Code: 69. Decimal value is too big");
        }
        (bisect.fates(), inserts)
    }

    #[test]
    fn a_clean_batch_is_one_insert() {
        let (fates, inserts) = search(100, &[], None, 40);
        assert_eq!(inserts, 1);
        assert!(fates.iter().all(|f| *f == Fate::Stored));
    }

    #[test]
    fn one_refused_row_is_found_and_the_99_others_stored() {
        let (fates, inserts) = search(100, &[57], None, 40);
        assert_eq!(
            fates[57],
            Fate::DeadLetter(
                "ClickHouse refused the row: Code: 69. Decimal value is too big".into()
            )
        );
        assert_eq!(fates.iter().filter(|f| **f == Fate::Stored).count(), 99);
        assert!(inserts <= 1 + 2 * 7, "about 2 log2(100) inserts: {inserts}");
    }

    #[test]
    fn several_refused_rows_are_each_set_aside() {
        let bad = [0, 1, 50, 99];
        let (fates, _) = search(100, &bad, None, 100);
        for (row, fate) in fates.iter().enumerate() {
            assert_eq!(
                matches!(fate, Fate::DeadLetter(_)),
                bad.contains(&row),
                "row {row}"
            );
        }
    }

    #[test]
    fn an_outage_mid_search_retries_what_is_left_and_keeps_what_is_stored() {
        let (fates, _) = search(8, &[0], Some(4), 40);
        // inserts: all (poison), 0-3 (poison), 0-1 (poison), 0 → outage
        assert!(fates[4..].iter().all(|f| *f == Fate::Retry), "{fates:?}");
        assert!(fates.iter().all(|f| *f == Fate::Retry), "{fates:?}");
        let (fates, _) = search(8, &[7], Some(4), 40);
        // all (poison), 0-3 stored, 4-7 (poison), 4-5 → outage
        assert!(fates[..4].iter().all(|f| *f == Fate::Stored), "{fates:?}");
        assert!(fates[4..].iter().all(|f| *f == Fate::Retry), "{fates:?}");
    }

    #[test]
    fn a_search_past_its_insert_limit_retries_the_rest() {
        let (fates, inserts) = search(100, &(0..100).collect::<Vec<_>>(), None, 10);
        assert_eq!(inserts, 10);
        let set_aside = fates
            .iter()
            .filter(|f| matches!(f, Fate::DeadLetter(_)))
            .count();
        let retried = fates.iter().filter(|f| **f == Fate::Retry).count();
        assert!(
            (1..10).contains(&set_aside),
            "{set_aside} found alone within 10 inserts"
        );
        assert_eq!(
            set_aside + retried,
            100,
            "the rest wait for the next delivery"
        );
        assert!(Bisect::new(0, 10).next_group().is_none());
    }

    /// The compressed clock: one delivery after another through an outage,
    /// each at the delay the budget gives, until the message is set aside.
    fn schedule(budget: RetryBudget) -> Vec<u64> {
        let mut deliveries = vec![0];
        let mut age = 0;
        while let Some(delay) = budget.delay(age) {
            age += u64::from(delay);
            deliveries.push(age);
        }
        deliveries
    }

    #[test]
    fn a_day_long_outage_is_retried_through_within_the_queues_limits() {
        let deliveries = schedule(RetryBudget::DEFAULT);
        let retries = deliveries.len() - 1;
        assert!(
            retries <= 100,
            "Cloudflare Queues' max_retries is 100: {retries}"
        );
        assert!(
            *deliveries.last().unwrap() >= 72 * 3600,
            "set aside only after 72 h"
        );
        // an outage of 24 h ends: the next try comes within the hour
        let after_24h = deliveries.iter().find(|&&at| at >= 24 * 3600).unwrap();
        assert!(after_24h - 24 * 3600 <= 3600);
        // a blip: the first retries come within seconds
        assert_eq!(&deliveries[..4], &[0, 5, 10, 15]);
    }

    #[test]
    fn the_schedule_scales_with_the_budget() {
        let minute = schedule(RetryBudget { seconds: 60 });
        assert!(minute.len() <= 101 && *minute.last().unwrap() >= 60);
        assert_eq!(RetryBudget { seconds: 60 }.delay(59), Some(1));
        assert_eq!(RetryBudget { seconds: 60 }.delay(60), None);
        assert_eq!(RetryBudget::DEFAULT.delay(100_000), Some(3600));
    }

    #[test]
    fn fates_become_actions_and_a_spent_budget_sets_aside() {
        let budget = RetryBudget { seconds: 60 };
        assert_eq!(budget.action(Fate::Stored, 999, ""), Action::Ack);
        assert_eq!(
            budget.action(Fate::Retry, 10, "down"),
            Action::RetryAfter(1)
        );
        assert_eq!(
            RetryBudget::DEFAULT.action(Fate::Retry, 10, "down"),
            Action::RetryAfter(5)
        );
        assert_eq!(
            budget.action(Fate::Retry, 60, "insert: connection refused"),
            Action::SetAside(
                "not stored within the retry budget (60 s): insert: connection refused".into()
            )
        );
        assert_eq!(
            budget.action(Fate::DeadLetter("refused".into()), 0, ""),
            Action::SetAside("refused".into())
        );
    }
}
