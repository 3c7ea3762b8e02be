//! A set that forgets its oldest members past a limit: for what is worth
//! remembering for a while (ids known not to exist, queries already asked)
//! but would otherwise grow for as long as termdesk runs.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

/// Holds at most `LIMIT` members (at least one).
#[derive(Debug, Clone)]
pub struct BoundedSet<T, const LIMIT: usize> {
    members: HashSet<T>,
    /// Insertion order, oldest first: what goes when the set is full.
    order: VecDeque<T>,
}

impl<T, const LIMIT: usize> Default for BoundedSet<T, LIMIT> {
    fn default() -> Self {
        Self {
            members: HashSet::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T: Clone + Eq + Hash, const LIMIT: usize> BoundedSet<T, LIMIT> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn contains(&self, value: &T) -> bool {
        self.members.contains(value)
    }

    /// Adds `value` (already there: kept in place); drops the oldest when
    /// over the limit.
    pub fn insert(&mut self, value: T) {
        if self.members.contains(&value) {
            return;
        }
        self.members.insert(value.clone());
        self.order.push_back(value);
        while self.order.len() > LIMIT.max(1) {
            if let Some(oldest) = self.order.pop_front() {
                self.members.remove(&oldest);
            }
        }
    }

    pub fn remove(&mut self, value: &T) {
        if self.members.remove(value) {
            self.order.retain(|v| v != value);
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn limit(&self) -> usize {
        LIMIT.max(1)
    }
}

impl<T: Clone + Eq + Hash, const LIMIT: usize> Extend<T> for BoundedSet<T, LIMIT> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        for value in values {
            self.insert(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_members_up_to_the_limit() {
        let mut set = BoundedSet::<i32, 3>::new();
        set.extend(1..=5);
        assert_eq!(set.len(), 3);
        assert!(!set.contains(&1) && !set.contains(&2));
        assert!(set.contains(&3) && set.contains(&5));
        // Inserting a member again does not make room.
        set.insert(3);
        assert_eq!(set.len(), 3);
        set.remove(&4);
        set.insert(6);
        assert!(set.contains(&3) && set.contains(&5) && set.contains(&6));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn a_zero_limit_still_holds_one() {
        let mut set = BoundedSet::<&str, 0>::new();
        set.insert("a");
        set.insert("b");
        assert_eq!(set.len(), 1);
        assert!(set.contains(&"b"));
    }
}
