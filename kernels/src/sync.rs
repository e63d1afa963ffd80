//! Multicore runtime for generated modules: the one module of this crate allowed `unsafe`.
//!
//! A `Shared` holds the arena every core works in and the flags the cores synchronise with.
//! Each core enters a run with `Shared::begin`, which hands it a `Core`; through it the core
//! takes views of arena byte ranges, signals flags and waits for flags.
//!
//! # Protocol (atomic load and store only, so it also runs where there is no CAS: thumbv6m)
//! * Every flag has a single writer. `done[c]` is written only by core `c`, `start` only by core
//!   0, and each entry of `flags` only by the core whose program signals it.
//! * A run has an epoch: one more (wrapping) than the last run the core finished, read from its
//!   own `done` slot. Signalling stores the epoch (`Release`); waiting spins until the flag holds
//!   the epoch (`Acquire`). A flag left over from the last run holds the previous epoch, which
//!   differs, so flags never need resetting and there is no reset race.
//! * Core 0 stores `start = epoch` when it begins; the other cores wait for it. Core 0 waits
//!   for every `done[c] == epoch` (`join`) before it reads the outputs and before it can begin
//!   the next run, so no core of run `e + 1` touches the arena while one of run `e` still does.
//!
//! # Safety argument for `Core::views`
//! It hands out `&mut [u8]` and `&[u8]` to arena ranges while other cores hold views too. This
//! is sound because, for every pair of steps on different cores that the signal/wait edges do
//! not order, the build-time planner (ariel_build/schedule) placed their written ranges
//! disjoint from every range the other step reads or writes; ordered steps are separated by a
//! `Release` store and an `Acquire` load of the same flag, so their accesses do not race.
//! Within a call, ranges are checked against the arena size and outputs against each other and
//! the inputs. On one core, views borrow the `Core` mutably, so they end before the core
//! signals, waits, or takes the next step's views. The contract for callers: each core index
//! runs on one thread at a time, and every core runs every run (generated code does both).

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::Range;

#[cfg(loom)]
use loom::sync::atomic::{AtomicU32, Ordering};

#[cfg(not(loom))]
use core::sync::atomic::{AtomicU32, Ordering};

use crate::arena::Aligned;

/// Arena of `N` bytes shared by `C` cores that synchronise with `F` flags.
pub struct Shared<const N: usize, const C: usize, const F: usize> {
    arena: UnsafeCell<Aligned<[u8; N]>>,
    done: [AtomicU32; C],
    start: AtomicU32,
    flags: [AtomicU32; F],
}

// SAFETY: the arena is only reached through `Core::views`, whose ranges the build-time plan
// makes race-free (module comment); the flags are atomics.
unsafe impl<const N: usize, const C: usize, const F: usize> Sync for Shared<N, C, F> {}

impl<const N: usize, const C: usize, const F: usize> Shared<N, C, F> {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            arena: UnsafeCell::new(Aligned([0; N])),
            done: [const { AtomicU32::new(0) }; C],
            start: AtomicU32::new(0),
            flags: [const { AtomicU32::new(0) }; F],
        }
    }

    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            arena: UnsafeCell::new(Aligned([0; N])),
            done: core::array::from_fn(|_| AtomicU32::new(0)),
            start: AtomicU32::new(0),
            flags: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Enters the next run on `core`: core 0 starts it, the others wait until core 0 has.
    pub fn begin(&self, core: usize) -> Core<'_, N, C, F> {
        // Only this core writes `done[core]`, so a relaxed load sees its own last store.
        let epoch = self.done[core].load(Ordering::Relaxed).wrapping_add(1);
        if core == 0 {
            self.start.store(epoch, Ordering::Release);
        } else {
            spin_until(&self.start, epoch);
        }
        Core {
            shared: self,
            core,
            epoch,
        }
    }

    /// The whole arena, when no core runs (the `&mut` proves it).
    pub fn arena_mut(&mut self) -> &mut [u8] {
        &mut self.arena.get_mut().0[..]
    }
}

#[cfg(not(loom))]
impl<const N: usize, const C: usize, const F: usize> Default for Shared<N, C, F> {
    fn default() -> Self {
        Self::new()
    }
}

/// One core's part of one run.
pub struct Core<'a, const N: usize, const C: usize, const F: usize> {
    shared: &'a Shared<N, C, F>,
    core: usize,
    epoch: u32,
}

impl<const N: usize, const C: usize, const F: usize> Core<'_, N, C, F> {
    /// Writable `outputs` and read-only `inputs`, as `(offset, len)` byte ranges of the arena.
    pub fn views<const M: usize, const K: usize>(
        &mut self,
        outputs: [(usize, usize); M],
        inputs: [(usize, usize); K],
    ) -> ([&mut [u8]; M], [&[u8]; K]) {
        let span = |(offset, len): (usize, usize)| -> Range<usize> {
            assert!(
                offset <= N && len <= N - offset,
                "arena range out of bounds"
            );
            offset..offset + len
        };
        let disjoint = |a: &Range<usize>, b: &Range<usize>| {
            a.is_empty() || b.is_empty() || a.end <= b.start || b.end <= a.start
        };
        let outs = outputs.map(span);
        let ins = inputs.map(span);
        for (i, o) in outs.iter().enumerate() {
            assert!(
                outs[i + 1..].iter().chain(&ins).all(|r| disjoint(o, r)),
                "an output range overlaps another range of the same step"
            );
        }
        let base = self.shared.arena.get().cast::<u8>();
        // SAFETY: every range is inside the arena (checked above) and the outputs are disjoint
        // from each other and from the inputs (checked above). Ranges of other cores' views
        // are race-free by the build-time plan (module comment). The views borrow `self`
        // mutably, so this core has no other views while they live.
        let outs =
            outs.map(|r| unsafe { core::slice::from_raw_parts_mut(base.add(r.start), r.len()) });
        let ins = ins.map(|r| unsafe {
            core::slice::from_raw_parts(base.add(r.start).cast_const(), r.len())
        });
        (outs, ins)
    }

    /// As `views`, plus writable `rows`: `(offset, len, stride, count)` = `count` rows of `len`
    /// bytes, `stride` bytes apart (the pixels of one part in every channel plane of an NCHW
    /// output); the other ranges must not overlap the rows' span.
    pub fn views_with_rows<const M: usize, const K: usize>(
        &mut self,
        rows: (usize, usize, usize, usize),
        outputs: [(usize, usize); M],
        inputs: [(usize, usize); K],
    ) -> (Rows<'_>, [&mut [u8]; M], [&[u8]; K]) {
        let (offset, len, stride, count) = rows;
        assert!(len <= stride || count <= 1, "rows overlap each other");
        let span = match count {
            0 => 0,
            _ => (count - 1) * stride + len,
        };
        assert!(
            offset <= N && span <= N - offset,
            "arena range out of bounds"
        );
        let (start, end) = (offset, offset + span);
        assert!(
            span == 0
                || outputs
                    .iter()
                    .chain(&inputs)
                    .all(|&(o, n)| n == 0 || o.saturating_add(n) <= start || end <= o),
            "an output range overlaps another range of the same step"
        );
        let base = self.shared.arena.get().cast::<i8>();
        // SAFETY: the rows are inside the arena and disjoint from the step's other ranges
        // (checked above); other cores' views are race-free by the build-time plan (module
        // comment). `Rows` borrows the arena for as long as this core's views do.
        let rows = Rows {
            base: unsafe { base.add(offset) },
            len,
            stride,
            count,
            _borrow: PhantomData,
        };
        let (outs, ins) = self.views(outputs, inputs);
        (rows, outs, ins)
    }

    /// Publishes everything this core wrote so far under `flag`.
    pub fn signal(&mut self, flag: usize) {
        self.shared.flags[flag].store(self.epoch, Ordering::Release);
    }

    /// Waits until `flag` is signalled in this run; what its writer wrote before is visible.
    pub fn wait(&mut self, flag: usize) {
        spin_until(&self.shared.flags[flag], self.epoch);
    }

    /// Waits until every other core has finished this run (core 0 calls it before the outputs).
    pub fn join(&mut self) {
        for (core, done) in self.shared.done.iter().enumerate() {
            if core != self.core {
                spin_until(done, self.epoch);
            }
        }
    }

    /// Ends this core's part of the run.
    pub fn finish(self) {
        self.shared.done[self.core].store(self.epoch, Ordering::Release);
    }
}

/// Writable rows of equal length at a fixed stride, e.g. the pixels `lo..hi` of every channel
/// plane of an NCHW output: rows of one channel each, which other cores' rows interleave.
pub struct Rows<'a> {
    base: *mut i8,
    len: usize,
    stride: usize,
    count: usize,
    _borrow: PhantomData<&'a mut [i8]>,
}

impl<'a> Rows<'a> {
    /// `y` as consecutive rows of `len` (a trailing partial row is left out).
    pub fn new(y: &'a mut [i8], len: usize) -> Self {
        Self {
            base: y.as_mut_ptr(),
            len,
            stride: len,
            count: y.len().checked_div(len).unwrap_or(0),
            _borrow: PhantomData,
        }
    }

    /// Number of rows.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Row `r` (panics past the last row).
    pub fn row(&mut self, r: usize) -> &mut [i8] {
        assert!(r < self.count, "row out of range");
        // SAFETY: row `r` lies inside the borrowed region (`new`: inside `y`; `views_with_rows`:
        // checked against the arena), rows are disjoint (len <= stride), and the returned slice
        // borrows `self` mutably, so at most one row is reachable at a time.
        unsafe { core::slice::from_raw_parts_mut(self.base.add(r * self.stride), self.len) }
    }
}

/// Where a kernel stores its outputs one at a time, as element `i` of row `r`: `Consecutive`
/// rows of a slice (one core: the whole output) or `Rows` of the arena (a
/// multicore part's pixels of every channel plane).
pub trait RowStore {
    fn set(&mut self, r: usize, i: usize, v: i8);

    /// Elements `i..i + N` of rows `first..first + rows`: row `first + k` gets `f(k)`, with the
    /// bounds checked once (panics outside the rows).
    fn set_columns<const N: usize>(
        &mut self,
        first: usize,
        i: usize,
        rows: usize,
        f: impl FnMut(usize) -> [i8; N],
    );

    /// Elements `i..i + N` of rows `first..first + rows`, with the bounds checked once (panics
    /// outside the rows), for a kernel that stores them itself.
    fn columns<const N: usize>(&mut self, first: usize, i: usize, rows: usize) -> Columns<'_, N>;
}

/// Elements `i..i + N` of `rows` rows `stride` bytes apart from `at`, all inside the borrowed
/// region (made only by `RowStore::columns`, which checks that). `dsp::dot_wide_pairs_store`
/// writes them from assembly through `at` and `stride`; `set` is the checked Rust way.
pub struct Columns<'a, const N: usize> {
    at: *mut i8,
    stride: usize,
    rows: usize,
    /// Elements of each row after the `N`.
    room: usize,
    _borrow: PhantomData<&'a mut [i8]>,
}

impl<const N: usize> Columns<'_, N> {
    /// The first row's elements.
    pub fn at(&self) -> *mut i8 {
        self.at
    }

    /// Bytes from a row's elements to the next row's.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Moves to the elements `by` further along the rows, or returns false (and stays) where the
    /// rows end before them.
    pub fn advance(&mut self, by: usize) -> bool {
        if by > self.room {
            return false;
        }
        self.room -= by;
        self.at = self.at.wrapping_add(by);
        true
    }

    /// Row `k`'s elements (panics past the last row).
    pub fn set(&mut self, k: usize, v: [i8; N]) {
        assert!(k < self.rows, "row out of range");
        // SAFETY: row `k < rows` lies inside the borrowed region (`columns`).
        unsafe { self.at.add(k * self.stride).cast::<[i8; N]>().write(v) }
    }
}

/// Consecutive rows of `len` elements in `y`.
pub struct Consecutive<'a> {
    pub y: &'a mut [i8],
    pub len: usize,
}

impl RowStore for Consecutive<'_> {
    #[inline(always)]
    fn set(&mut self, r: usize, i: usize, v: i8) {
        self.y[r * self.len + i] = v;
    }

    #[inline(always)]
    fn set_columns<const N: usize>(
        &mut self,
        first: usize,
        i: usize,
        rows: usize,
        f: impl FnMut(usize) -> [i8; N],
    ) {
        Rows::new(self.y, self.len).set_columns(first, i, rows, f);
    }

    #[inline(always)]
    fn columns<const N: usize>(&mut self, first: usize, i: usize, rows: usize) -> Columns<'_, N> {
        let whole = Rows::new(self.y, self.len);
        Columns {
            at: whole.first_column::<N>(first, i, rows),
            stride: self.len,
            rows,
            room: self.len - i - N,
            _borrow: PhantomData,
        }
    }
}

impl RowStore for Rows<'_> {
    /// Panics outside the rows.
    #[inline(always)]
    fn set(&mut self, r: usize, i: usize, v: i8) {
        assert!(r < self.count && i < self.len, "row element out of range");
        // SAFETY: element `i` of row `r` is inside the borrowed region (as in `row`).
        unsafe { self.base.add(r * self.stride + i).write(v) }
    }

    #[inline(always)]
    fn set_columns<const N: usize>(
        &mut self,
        first: usize,
        i: usize,
        rows: usize,
        mut f: impl FnMut(usize) -> [i8; N],
    ) {
        let mut at = self.first_column::<N>(first, i, rows);
        for k in 0..rows {
            // SAFETY: elements `i..i + N` of row `first + k` are inside the borrowed region (as in
            // `row`), `first + k < count` and `i + N <= len` by the assertion.
            unsafe { at.cast::<[i8; N]>().write(f(k)) }
            at = at.wrapping_add(self.stride);
        }
    }

    #[inline(always)]
    fn columns<const N: usize>(&mut self, first: usize, i: usize, rows: usize) -> Columns<'_, N> {
        Columns {
            at: self.first_column::<N>(first, i, rows),
            stride: self.stride,
            rows,
            room: self.len - i - N,
            _borrow: PhantomData,
        }
    }
}

impl Rows<'_> {
    /// Element `i` of row `first`, after checking that elements `i..i + N` of rows
    /// `first..first + rows` are inside the rows (panics if not).
    #[inline(always)]
    fn first_column<const N: usize>(&self, first: usize, i: usize, rows: usize) -> *mut i8 {
        let inside = first <= self.count && rows <= self.count - first;
        assert!(
            inside && i <= self.len && N <= self.len - i,
            "columns out of range"
        );
        self.base.wrapping_add(first * self.stride + i)
    }
}

fn spin_until(flag: &AtomicU32, epoch: u32) {
    let mut spins: u32 = 0;
    while flag.load(Ordering::Acquire) != epoch {
        spins = spins.wrapping_add(1);
        pause(spins);
    }
}

#[cfg(loom)]
fn pause(_spins: u32) {
    loom::thread::yield_now();
}

/// On a core of its own a waiter just spins. With the `std` feature (threads standing in for
/// cores on a host that may have fewer CPUs than threads) it also yields its time slice now
/// and then, so the thread it waits for can run.
#[cfg(not(loom))]
fn pause(spins: u32) {
    core::hint::spin_loop();
    #[cfg(feature = "std")]
    if spins & 63 == 0 {
        std::thread::yield_now();
    }
    #[cfg(not(feature = "std"))]
    let _ = spins;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn views_are_the_requested_ranges() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let ([a], [x]) = core.views([(16, 8)], [(0, 16)]);
        a.fill(7);
        assert_eq!((a.len(), x.len()), (8, 16));
        let ([], [y]) = core.views([], [(16, 8)]);
        assert_eq!(y, &[7; 8]);
        core.finish();
    }

    #[test]
    fn empty_ranges_overlap_nothing() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let ([a, e], [x]) = core.views([(0, 32), (8, 0)], [(16, 0)]);
        assert_eq!((a.len(), e.len(), x.len()), (32, 0, 0));
        core.finish();
    }

    #[test]
    #[should_panic(expected = "overlaps")]
    fn overlapping_output_is_refused() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let _ = core.views([(0, 16)], [(8, 16)]);
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn range_past_the_arena_is_refused() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let _ = core.views([(60, 8)], []);
    }

    #[test]
    fn rows_are_strided_and_disjoint_from_the_views() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let (mut rows, [s], [x]) = core.views_with_rows((2, 3, 10, 4), [(40, 8)], [(48, 16)]);
        for r in 0..rows.count() {
            rows.row(r).fill(r as i8 + 1);
        }
        s.fill(9);
        assert_eq!((x.len(), rows.count()), (16, 4));
        let ([], [all]) = core.views([], [(0, 40)]);
        let expected: [u8; 40] = core::array::from_fn(|i| match (i % 10, i / 10) {
            (2..=4, r) => r as u8 + 1,
            _ => 0,
        });
        assert_eq!(all, &expected);
        core.finish();
    }

    #[test]
    #[should_panic(expected = "overlaps")]
    fn a_range_inside_the_rows_span_is_refused() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let _ = core.views_with_rows((0, 2, 8, 3), [], [(6, 1)]);
    }

    #[test]
    fn rows_of_a_slice() {
        let mut y = [0i8; 7];
        let mut rows = Rows::new(&mut y, 3);
        rows.row(1).fill(5);
        rows.set(0, 2, -1);
        assert_eq!((rows.count(), y), (2, [0, 0, -1, 5, 5, 5, 0]));
    }

    #[test]
    fn columns_of_rows() {
        let shared: Shared<64, 1, 0> = Shared::new();
        let mut core = shared.begin(0);
        let (mut rows, [], []) = core.views_with_rows((2, 3, 10, 4), [], []);
        rows.set_columns(1, 1, 3, |k| [k as i8 + 1, -(k as i8) - 1]);
        let ([], [all]) = core.views([], [(0, 40)]);
        let expected: [u8; 40] = core::array::from_fn(|i| match (i % 10, i / 10) {
            (3, r @ 1..=3) => r as u8,
            (4, r @ 1..=3) => (r as i8).wrapping_neg() as u8,
            _ => 0,
        });
        assert_eq!(*all, expected);
        let mut y = [0i8; 6];
        Consecutive { y: &mut y, len: 2 }.set_columns(1, 1, 2, |k| [k as i8 + 7]);
        assert_eq!(y, [0, 0, 0, 7, 0, 8]);
    }

    #[test]
    fn columns_advance_inside_the_rows() {
        let mut y = [0i8; 8];
        let mut rows = Consecutive { y: &mut y, len: 4 };
        let mut out = rows.columns::<2>(0, 1, 2);
        assert!(out.advance(1) && !out.advance(1));
        out.set(1, [5, 6]);
        assert_eq!(y, [0, 0, 0, 0, 0, 0, 5, 6]);
    }

    #[test]
    #[should_panic(expected = "columns out of range")]
    fn columns_past_the_rows_panic() {
        let mut y = [0i8; 6];
        Rows::new(&mut y, 3).set_columns(1, 2, 1, |_| [1, 2]);
    }

    #[test]
    fn epochs_advance_per_run() {
        let shared: Shared<16, 1, 1> = Shared::new();
        for run in 1..4u32 {
            let mut core = shared.begin(0);
            core.signal(0);
            core.wait(0);
            assert_eq!(core.epoch, run);
            core.finish();
        }
    }
}

/// Model checks (`RUSTFLAGS="--cfg loom" cargo test --release --lib sync`): every interleaving of
/// two cores over two runs; the payload cell reports any access the flags leave unordered.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::cell::UnsafeCell as Cell;
    use loom::sync::Arc;

    /// Core 1 produces a value, core 0 consumes it, twice: the second run's write must wait
    /// until core 0 has read the first (epoch reuse through start/join).
    #[test]
    fn producer_consumer_over_two_runs() {
        loom::model(|| {
            let shared: Arc<Shared<16, 2, 1>> = Arc::new(Shared::new());
            let payload = Arc::new(Cell::new(0u32));
            let (s, p) = (shared.clone(), payload.clone());
            let worker = loom::thread::spawn(move || {
                for run in 1..=2u32 {
                    let mut core = s.begin(1);
                    p.with_mut(|v| unsafe { *v = run * 10 });
                    core.signal(0);
                    core.finish();
                }
            });
            for run in 1..=2u32 {
                let mut core = shared.begin(0);
                core.wait(0);
                assert_eq!(payload.with(|v| unsafe { *v }), run * 10);
                core.join();
                core.finish();
            }
            worker.join().unwrap();
        });
    }

    /// Each core writes its own value and reads the other's after a flag handoff both ways.
    #[test]
    fn exchange_both_ways() {
        loom::model(|| {
            let shared: Arc<Shared<16, 2, 2>> = Arc::new(Shared::new());
            let cells = Arc::new([Cell::new(0u32), Cell::new(0u32)]);
            let (s, c) = (shared.clone(), cells.clone());
            let worker = loom::thread::spawn(move || {
                let mut core = s.begin(1);
                c[1].with_mut(|v| unsafe { *v = 2 });
                core.signal(1);
                core.wait(0);
                assert_eq!(c[0].with(|v| unsafe { *v }), 1);
                core.finish();
            });
            let mut core = shared.begin(0);
            cells[0].with_mut(|v| unsafe { *v = 1 });
            core.signal(0);
            core.wait(1);
            assert_eq!(cells[1].with(|v| unsafe { *v }), 2);
            core.join();
            core.finish();
            worker.join().unwrap();
        });
    }
}
