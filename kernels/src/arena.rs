//! The tensor arena and safe typed views into it.

/// Wrapper that gives weights and arenas the alignment every element type needs.
#[repr(C, align(16))]
pub struct Aligned<T: ?Sized>(pub T);

/// One arena for all intermediate tensors of a model; offsets come from the build-time plan.
#[repr(C, align(16))]
pub struct Arena<const N: usize> {
    pub bytes: [u8; N],
}

impl<const N: usize> Arena<N> {
    pub const fn new() -> Self {
        Self { bytes: [0; N] }
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Reinterprets aligned bytes as elements (the plan aligns every tensor to 16 bytes).
#[inline(always)]
pub fn cast<T: bytemuck::Pod>(bytes: &[u8]) -> &[T] {
    if bytes.is_empty() {
        return &[]; // an empty tensor: any address will do, but it must be aligned for T
    }
    bytemuck::cast_slice(bytes)
}

#[inline(always)]
pub fn cast_mut<T: bytemuck::Pod>(bytes: &mut [u8]) -> &mut [T] {
    if bytes.is_empty() {
        return &mut [];
    }
    bytemuck::cast_slice_mut(bytes)
}

/// Splits the arena into `M` writable output ranges and `K` read-only input ranges.
///
/// Ranges are `(offset, len)` in bytes. Outputs must not overlap each other or any input;
/// inputs may overlap each other. The memory plan guarantees both.
pub fn views<'a, const M: usize, const K: usize>(
    arena: &'a mut [u8],
    outputs: [(usize, usize); M],
    inputs: [(usize, usize); K],
) -> ([&'a mut [u8]; M], [&'a [u8]; K]) {
    let mut order: [usize; M] = core::array::from_fn(|i| i);
    order.sort_unstable_by_key(|&i| outputs[i].0);

    let mut outs: [&'a mut [u8]; M] = core::array::from_fn(|_| <&mut [u8]>::default());
    // The read-only gap before each output (by offset order), as (start offset, bytes).
    let mut gaps: [(usize, &'a [u8]); M] = [(0, &[]); M];
    let mut rest = arena;
    let mut cursor = 0;
    for (slot, &i) in order.iter().enumerate() {
        let (offset, len) = outputs[i];
        if len == 0 {
            gaps[slot] = (usize::MAX, &[]); // empty tensors take no bytes and hide no input
            continue;
        }
        let (gap, tail) = core::mem::take(&mut rest).split_at_mut(offset - cursor);
        let (out, tail) = tail.split_at_mut(len);
        gaps[slot] = (cursor, gap);
        outs[i] = out;
        rest = tail;
        cursor = offset + len;
    }
    let tail: (usize, &'a [u8]) = (cursor, rest);

    let ins = core::array::from_fn(|k| {
        let (offset, len) = inputs[k];
        if len == 0 {
            return &[][..];
        }
        let (start, gap) = if offset >= tail.0 {
            tail
        } else {
            gaps.iter()
                .rev()
                .find(|(start, _)| *start <= offset)
                .copied()
                .unwrap_or((0, &[]))
        };
        &gap[offset - start..offset - start + len]
    });
    (outs, ins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_split_outputs_and_inputs() {
        let mut bytes = [0u8; 64];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let ([a, b], [x, y, z]) = views(
            &mut bytes,
            [(32, 16), (0, 16)],
            [(16, 16), (48, 16), (16, 8)],
        );
        assert_eq!(x[0], 16);
        assert_eq!(y[15], 63);
        assert_eq!(z.len(), 8);
        a.fill(1);
        b.fill(2);
        assert_eq!(bytes[32], 1);
        assert_eq!(bytes[0], 2);
    }

    #[test]
    fn empty_tensors_anywhere_take_no_bytes() {
        let mut bytes = [7u8; 64];
        // An empty output at the start of, and inside, another output; an empty input inside one.
        let ([a, e0, e1], [x, e2]) =
            views(&mut bytes, [(0, 32), (0, 0), (8, 0)], [(32, 16), (16, 0)]);
        assert_eq!(
            (a.len(), e0.len(), e1.len(), x.len(), e2.len()),
            (32, 0, 0, 16, 0)
        );
        assert_eq!(x[0], 7);
        assert!(cast_mut::<f32>(e1).is_empty() && cast::<u64>(e2).is_empty());
    }
}
