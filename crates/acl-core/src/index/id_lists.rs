//! [`IdLists`]: a principal's lists of ids (its roles, members, held nodes, fenced nodes)
//! packed into one boxed slice, so a principal slot carries 16 bytes per group of lists
//! instead of 24 bytes per list.
//!
//! The index keeps one slot per principal in a vector that grows by doubling, so every
//! byte of a slot is paid for up to twice; most principals are users whose member and
//! fence lists are empty.

/// `N` lists of `u32` ids in one boxed slice. Empty, it holds no heap memory.
///
/// Layout: empty, or the `N` list lengths, then the ids of list 0, list 1, ... back to
/// back, then spare room. Pushing onto list `k` shifts the ids of the lists after it, so
/// the list that grows largest should be the last one.
///
/// Order within a list is that of a `Vec` used with `push` and `swap_remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct IdLists<const N: usize> {
    buf: Box<[u32]>,
}

/// The room for ids of a freshly allocated buffer; it then doubles. Small, since most
/// principals are users in one to three roles.
const FIRST_ROOM: usize = 2;

impl<const N: usize> IdLists<N> {
    /// The length of list `list`.
    fn len_of(&self, list: usize) -> usize {
        self.buf.get(list).map_or(0, |&len| len as usize)
    }

    /// Where list `list`'s ids sit in the buffer.
    fn bounds(&self, list: usize) -> (usize, usize) {
        let start = N + (0..list).map(|k| self.len_of(k)).sum::<usize>();
        (start, start + self.len_of(list))
    }

    /// The buffer words in use: the lengths and every id.
    fn used(&self) -> usize {
        N + (0..N).map(|k| self.len_of(k)).sum::<usize>()
    }

    /// The ids of list `list` (empty for a list past `N`).
    pub(super) fn get(&self, list: usize) -> &[u32] {
        let (start, end) = self.bounds(list);
        self.buf.get(start..end).unwrap_or_default()
    }

    /// Whether every list is empty.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Appends `id` to list `list` (ignored for a list past `N`).
    pub(super) fn push(&mut self, list: usize, id: u32) {
        if list >= N {
            return;
        }
        let used = if self.buf.is_empty() { N } else { self.used() };
        if used >= self.buf.len() {
            let room = (self.buf.len().saturating_sub(N) * 2).max(FIRST_ROOM);
            let mut grown = vec![0; N + room];
            if let (Some(to), Some(from)) = (grown.get_mut(..used), self.buf.get(..used)) {
                to.copy_from_slice(from);
            }
            self.buf = grown.into_boxed_slice();
        }
        let (_, end) = self.bounds(list);
        // Shift the later lists' ids up by one to make room at the end of this list.
        self.buf.copy_within(end..used, end + 1);
        if let Some(slot) = self.buf.get_mut(end) {
            *slot = id;
        }
        if let Some(len) = self.buf.get_mut(list) {
            *len += 1;
        }
    }

    /// Removes one occurrence of `id` from list `list` as `Vec::swap_remove` would (the
    /// list's last id takes its place); returns whether it was there. Frees the buffer
    /// when every list is then empty.
    pub(super) fn remove(&mut self, list: usize, id: u32) -> bool {
        let (start, end) = self.bounds(list);
        let Some(at) = self.get(list).iter().position(|&x| x == id) else {
            return false;
        };
        let used = self.used();
        let last = end - 1;
        if let Some(&moved) = self.buf.get(last)
            && let Some(slot) = self.buf.get_mut(start + at)
        {
            *slot = moved;
        }
        // Shift the later lists' ids down by one over the freed last place.
        self.buf.copy_within(end..used, last);
        if let Some(len) = self.buf.get_mut(list) {
            *len -= 1;
        }
        if used == N + 1 {
            self.buf = Box::default();
        }
        true
    }

    /// The heap bytes held.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        self.buf.len() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // The principal slot of the index: its record and one group of lists.
    #[test]
    fn a_principal_slot_is_48_bytes() {
        assert_eq!(size_of::<Option<super::super::Slot>>(), 48);
    }

    #[test]
    fn a_group_of_lists_pays_sixteen_bytes_and_nothing_while_empty() {
        assert_eq!(size_of::<IdLists<3>>(), 16);
        let lists = IdLists::<3>::default();
        assert!(lists.is_empty());
        assert_eq!(lists.heap_bytes(), 0);
        assert_eq!(lists.get(0), &[] as &[u32]);
        assert_eq!(lists.get(7), &[] as &[u32]);
    }

    #[test]
    fn emptied_lists_free_their_buffer() {
        let mut lists = IdLists::<2>::default();
        lists.push(1, 5);
        lists.push(0, 6);
        assert!(!lists.remove(0, 5));
        assert!(lists.remove(0, 6));
        assert!(!lists.is_empty());
        assert!(lists.remove(1, 5));
        assert!(lists.is_empty());
        assert_eq!(lists.heap_bytes(), 0);
    }

    proptest! {
        // Each list behaves exactly as a Vec driven by push and swap_remove.
        #[test]
        fn lists_behave_as_vecs(ops in prop::collection::vec((any::<bool>(), 0..3usize, 0..6u32), 0..200)) {
            let mut lists = IdLists::<3>::default();
            let mut model: [Vec<u32>; 3] = Default::default();
            for (push, list, id) in ops {
                if push {
                    lists.push(list, id);
                    model[list].push(id);
                } else {
                    let at = model[list].iter().position(|&x| x == id);
                    if let Some(at) = at {
                        model[list].swap_remove(at);
                    }
                    prop_assert_eq!(lists.remove(list, id), at.is_some());
                }
                for (k, want) in model.iter().enumerate() {
                    prop_assert_eq!(lists.get(k), want.as_slice());
                }
                prop_assert_eq!(lists.is_empty(), model.iter().all(Vec::is_empty));
            }
        }
    }
}
