//! Dual 16-bit multiply-accumulate on values packed two to a `u32` (low half first).
//!
//! On Arm cores with the DSP extension these are the single instructions SMLAD and SXTB16, written
//! as inline assembly because `core::arch::arm`'s DSP intrinsics are unstable. Everywhere else they
//! are plain Rust with the same definition, so both give identical results.
//!
//! Audit (the only `unsafe` in the int8 kernels): each single-instruction `asm!` reads its register
//! operands and writes one register; no memory access, no stack use, no control flow. SMLAD may set
//! the sticky Q flag on overflow, which no Rust code reads, so it does not claim `preserves_flags`.
//! `dot_wide_2x2`'s loop only reads memory (`readonly`, `nostack`): the first `4 * blocks` elements
//! of `cols` and of `w` (16 bytes each), in order, through two pointers that start at the slices'
//! starts and advance by 8 bytes per `ldrd`; its safe wrapper takes slices, derives `blocks` from
//! the shorter one and enters only with `blocks >= 1`, so every read is inside both slices (8-byte
//! aligned, as LDRD needs). The loop ends when the column pointer equals the end of the first `4 *
//! blocks` columns; it writes its 4 accumulators, 6 scratch registers, the 2 pointers and the flags
//! (CMP), nothing else. `dot_wide_pairs_store` runs a column loop like it once per channel pair,
//! one LDM of the 4 column words and one of the 4 weight words per group into the fixed registers
//! r0-r3 and r8-r11, and writes memory. Its safe wrapper takes `pairs` as the pairs that the layer's
//! `bias`, `rq` (2 entries each), `w` (`groups` groups each; all three counted by `WideStore::new`)
//! and `out` (2 rows each) all have, and enters only with `pairs >= 1` and `cols.len()` equal to
//! the layer's `groups`, at least 1. It saves r6 and r7 (which cannot be
//! operands; they hold the column and weight pointers) with PUSH and restores them with POP, and
//! reserves 32 bytes of stack (SUB/ADD SP, balanced, 40 in all, so SP stays 8-aligned: the bias
//! pointer, the column start, the loop entry, the `ChannelRequant` pointer, the output pointer, the
//! row stride, the `ChannelRequant` end and the column end; a pair starts with one LDM of the first
//! three from SP where it enters by BX, else LDRD of the first two). For a column of `g` groups
//! that is not a multiple of `STORE_UNROLL`, each pair's loop is entered by BX at the group `(16 -
//! g % 16) % 16` of the 16 in the loop body (ADR of the word-aligned body start plus the bytes of
//! the skipped groups, every group being 10 (one column: 6) 32-bit instructions, plus the Thumb
//! bit), so the first pass runs `g % 16` groups and every later one 16; columns of at most 16
//! groups run one pass without the end test. The column pointer meets the column end after exactly
//! `g` groups. Per pair it reads 2 elements of `bias` (two LDRD of the same 8 bytes), all of `cols`
//! (16 bytes per LDM), the pair's `g` groups of `w` (the weight pointer runs on from pair to pair)
//! and its 2 `ChannelRequant` entries (one LDM of 4 words each, 16 bytes, `repr(C)`, 8-aligned),
//! requantizes in registers, and stores one halfword (one column: byte) to each of the pair's 2
//! rows of `out` (at the row's element and at it plus the stride), then advances the output pointer
//! by 2 strides: after `pairs` pairs it has read `2 * pairs` biases and entries and `pairs * g`
//! weight groups and written rows `0..2 * pairs` of `out`, which `RowStore::columns`
//! (kernels/src/sync.rs) checked are inside the borrowed output. It writes r0-r5, r8-r12, lr (all
//! declared) and the flags (CMP, ADDS/ADC; SSAT may set Q, which no Rust code reads), nothing else.
//! `dot_wide_row_pairs` is the like for one column: its wrapper derives `pairs` likewise and enters
//! with the same conditions (`col.len()` a nonzero multiple of 4); it saves r6 and r7 (the column
//! and weight pointers) with PUSH/POP and reserves 8 bytes of stack (the pairs left; 16 in all);
//! per pair it reads 2 elements of `bias`, all of `col` (from `start` to `end`, 8 bytes per LDRD)
//! and the pair's `col.len()` groups of `w` (16 bytes per LDM), and writes one `[i32; 2]` of `acc`
//! (STRD), so after `pairs` pairs every access was inside the slices. It writes r0-r5, r8-r11, lr
//! and the flags (SUBS, CMP), nothing else. `high_mul_add_signed` (section "Requantization", before
//! the tests) is four register-only instructions: no memory access, no stack use, no control flow;
//! it writes its two outputs (early-clobber, apart from the inputs) and the flags (ADDS/ADC).
//! `saturate_pair` is likewise register-only (13 or 15 instructions, no memory, stack or control
//! flow): it writes its two early-clobber outputs, the first accumulator's register (declared
//! `inout`, written only after its last read) and the flags (ADDS/ADC; SSAT may set Q, which no
//! Rust code reads). `interleave_columns` copies memory without stack (`nostack`): its safe wrapper
//! takes `whole`, the group count all three slices have rounded down to a multiple of 2, enters
//! only with `whole >= 2`, and per iteration reads 2 elements of `a` and of `b` (LDRD, 8 bytes
//! each, aligned as u64s are) and writes 2 of `dst` (one STM of 16 bytes each), its three pointers
//! starting at the slices' starts; it ends when the `dst` pointer equals the end of `dst`'s first
//! `whole` elements, so it read the first `whole` of `a` and `b` and wrote the first `whole` of
//! `dst`, all inside the slices (`dst` does not overlap `a` or `b`: it is a `&mut`). It writes
//! r0-r3, the 3 pointers and the flags (CMP), nothing else. `pack_pointwise_groups` likewise
//! (`nostack`): its wrapper derives `whole`, the groups of 4 channel planes that `cols` and `c_in`
//! have, and enters only with `whole >= 1` and the last plane's 2 bytes at `px` inside `xs` (`(4 *
//! whole - 1) * plane + px + 2 <= xs.len()`); per group it reads 2 bytes at `px` of 4 consecutive
//! planes (LDRH at the plane pointer plus 0, 1, 2 and 3 plane strides; the pointer then advances by
//! 4 strides; one or two groups per iteration, two if `whole` is even) and writes one element of
//! `cols` (STM, 16 bytes), ending when the `cols` pointer reaches the end of its first `whole`
//! elements: every access is inside the slices. It writes r0-r3, its plane and `cols` pointers and
//! the flags (CMP), nothing else. `depthwise3_rows::<S>` saves r6 and r7 with PUSH and restores
//! them with POP and reserves 24 bytes of stack (SUB/ADD SP, balanced, 32 bytes in all: the row's
//! accumulator end, 8 bytes per pair times the pairs per row `n = ceil(width / 2)`, the input step
//! to the next row, 4 bytes if the width is odd, and the block's accumulator end; r7 holds `pitch +
//! 1`). Its wrapper enters only with `S` 1 or 2, `rows, width >= 1`, `2Sn <= S * pitch`,
//! `xs.len() >= (S * rows + 2 - S) * pitch + 2Sn + 2` and `acc.len() >= rows * width + width % 2`.
//! For row `r` and pair `j` it reads one word (LDR, unaligned, which Cortex-M4 and M33 allow) at
//! bytes `(S * r + k) * pitch + 2Sj` of `xs` for k < 3, and at stride 2 also the word 2 bytes on;
//! the last read ends at `(S * rows + 2 - S) * pitch + 2Sn + 1 < xs.len()`. It writes 8 bytes
//! (STRD, i32-aligned) at accumulator `r * width + 2j`, the last ending at `rows * width + width %
//! 2 <= acc.len()`. After a row the accumulator pointer steps back by the odd width's extra element
//! to `(r + 1) * width` and the input pointer on to input row `S * (r + 1)`; it ends when the
//! accumulator pointer reaches `rows * width`. It writes r8-r12 and the flags (CMP), nothing else.
//! `depthwise3_channel::<S, LATE>` reads the same inputs of `xs` under the same wrapper checks
//! (with `y.len() >= rows * width` in place of the accumulator bound), pushes r6 and r7 and
//! reserves 56 bytes of stack (balanced, 64 in all: the weights r0-r3, the 4 `ChannelRequant`
//! words, the row's end, the plane's end `rows * width` bytes into `y`, the input step, the bytes
//! of a row's whole pairs `width & !1` and the odd flag `width & 1`); it reads the 8 words of
//! the wrapper's `block` (2 LDM) and no other memory besides `xs` and its stack. Per row it
//! stores one halfword (STRH, post-incremented) per whole pair and, for an odd width, one byte:
//! `width` bytes per row, consecutive, so the output pointer meets the plane's end after exactly
//! `rows` rows and every store is inside `y[..rows * width]`. It writes r0-r3 and r8-r12 (all
//! declared) and the flags (CMP, ADDS/ADC; SSAT may set Q), nothing else.
//! `extend_quads` copies without stack (`nostack`): its wrapper enters only with `quads >= 1`, `g <
//! G`, `src.len() >= 4 * quads + 3 * plane` and `dst.len() >= 4 * quads * G`. Per quad `j` it reads
//! one word (LDR) at bytes `k * plane + 4j` of `src` for k < 4 (through the plane pointer plus 0,
//! 1, 2 and 3 strides) and writes 8 words (STR, 4-aligned in the u64 slice): the two halves of
//! elements `(4j + p) * G + g` of `dst` for p < 4, at most element `(4 * quads - 1) * G + g`,
//! inside `dst`. It ends when the plane pointer reaches byte `4 * quads`. It writes its 7 data
//! registers, the two pointers and the flags (CMP), nothing else. `interleave_runs` copies without
//! stack (`nostack`): its wrapper enters only with `run` even and nonzero, `starts` nonempty, every
//! `s + apart + run <= words.len()` and `dst.len() >= starts.len() * run`. Per start (LDR,
//! post-incremented through `starts`) it reads `run` elements of `words` from `s` and from `s +
//! apart` (LDRD, 8 bytes each) and writes `run` elements of `dst` (STM, 16 bytes each), the `dst`
//! pointer running on from start to start: it writes the first `starts.len() * run` elements of
//! `dst`. It writes r0-r3, its 4 pointer registers and the flags (CMP), nothing else.
//! `pack_groups_at` reads like `pack_pointwise_groups` from each of its `starts`: its wrapper
//! enters only with `starts` and `groups` nonempty, every start's last read inside `xs` (`s +
//! (4 * groups - 1) * plane + 2 <= xs.len()`) and `cols.len() >= starts.len() * groups`. It
//! pushes r6 and r7
//! (r6 holds the base of `xs`; balanced by POP), loads each start (LDR, post-incremented through
//! `starts` until its end), packs `groups` groups from it (the plane pointer stepping 4 planes
//! per group up to the start plus `4 * groups` planes) and writes one element of `cols` per group
//! (STM, the pointer running on): `starts.len() * groups` elements. It writes r0-r5, r10, r11
//! and the flags (CMP), nothing else.
//! `gather_taps3` copies without stack (`nostack`): its wrapper enters only with `S` 1 or 2,
//! `channels >= 1`, `plane >= 3 * row_step`, `taps.len() >= 9 * channels` and the last read ending
//! inside `xs` (`start + (channels - 1) * plane + 2 * row_step` plus 4 bytes, 6 at stride 2). Per
//! channel and kernel row it reads one word (LDR, unaligned) at `start + c * plane + k * row_step`
//! of `xs` (and at stride 2 one more 2 bytes on) and writes 3 words of `taps` (STM), ending when
//! the `taps` pointer reaches element `9 * channels`. It writes r0-r2, its two data and three
//! pointer registers and the flags (CMP), nothing else. `pack_taps` reads and rewrites `cols` in
//! place (`nostack`): per element one LDM and one STM of 16 bytes at the same address, the pointer
//! running from the start to the end of `cols` (entered only if `cols` is not empty). It writes
//! r0-r5, r8, r9, its pointer and the flags (CMP), nothing else.

use super::ChannelRequant;
use crate::sync::Columns;

/// `acc + lo(a) * lo(b) + hi(a) * hi(b)` over the signed 16-bit halves, wrapping like SMLAD.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let out: i32;
    // SAFETY: register-only instruction (see the module audit).
    unsafe {
        core::arch::asm!(
            "smlad {out}, {a}, {b}, {acc}",
            out = lateout(reg) out,
            a = in(reg) a,
            b = in(reg) b,
            acc = in(reg) acc,
            options(pure, nomem, nostack),
        );
    }
    out
}

/// `smlad` that the compiler keeps in program order with the loads around it: declared as
/// possibly touching memory, so later loads are not hoisted above it (in a tight loop that
/// hoisting holds more values in registers than there are and spills).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn smlad_ordered(a: u32, b: u32, acc: i32) -> i32 {
    let mut acc = acc;
    // SAFETY: register-only instruction (see the module audit).
    unsafe {
        core::arch::asm!(
            "smlad {acc}, {a}, {b}, {acc}",
            acc = inout(reg) acc,
            a = in(reg) a,
            b = in(reg) b,
            options(nostack),
        );
    }
    acc
}

/// Bytes 0 and 2 of `v`, sign-extended to the low and high 16-bit halves (SXTB16).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn sxtb16(v: u32) -> u32 {
    let out: u32;
    // SAFETY: register-only instruction (see the module audit).
    unsafe {
        core::arch::asm!(
            "sxtb16 {out}, {v}",
            out = lateout(reg) out,
            v = in(reg) v,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    out
}

/// Bytes 1 and 3 of `v`, sign-extended to the low and high 16-bit halves (SXTB16 with ROR #8).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn sxtb16_odd(v: u32) -> u32 {
    let out: u32;
    // SAFETY: register-only instruction (see the module audit).
    unsafe {
        core::arch::asm!(
            "sxtb16 {out}, {v}, ror #8",
            out = lateout(reg) out,
            v = in(reg) v,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    out
}

/// Groups per iteration of `dot_wide_2x2`'s loop.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
const WIDE_UNROLL: usize = 4;

/// One group of `dot_wide_2x2`: both columns' even then odd pairs, channel 0's weight pairs and
/// 4 SMLAD, channel 1's into the same registers and 4 SMLAD.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! wide_group {
    () => {
        concat!(
            "ldrd {c0}, {c1}, [{x}], #8\n",
            "ldrd {c2}, {c3}, [{x}], #8\n",
            "ldrd {we}, {wo}, [{w}], #8\n",
            "smlad {a00}, {c0}, {we}, {a00}\n",
            "smlad {a10}, {c1}, {we}, {a10}\n",
            "smlad {a00}, {c2}, {wo}, {a00}\n",
            "smlad {a10}, {c3}, {wo}, {a10}\n",
            "ldrd {we}, {wo}, [{w}], #8\n",
            "smlad {a01}, {c0}, {we}, {a01}\n",
            "smlad {a11}, {c1}, {we}, {a11}\n",
            "smlad {a01}, {c2}, {wo}, {a01}\n",
            "smlad {a11}, {c3}, {wo}, {a11}\n",
        )
    };
}

/// `$m!()` 16 times over (the unrolled loop bodies).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! times16 {
    ($m:ident) => {
        concat!(times4!($m), times4!($m), times4!($m), times4!($m))
    };
}

/// `$m!()` 4 times over.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! times4 {
    ($m:ident) => {
        concat!($m!(), $m!(), $m!(), $m!())
    };
}

/// One group of `dot_wide_pairs_store`: both columns' even then odd pairs in r0-r3 (one LDM), both
/// channels' weight pairs in r8-r11 (one LDM), 8 SMLAD into r4 (column 0, channel 0), r12
/// (column 1, channel 0), r5 and lr (channel 1); the column pointer is r6, the weight pointer r7.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! pairs_group {
    () => {
        concat!(
            "ldm.w r6!, {{r0-r3}}\n",
            "ldm.w r7!, {{r8-r11}}\n",
            "smlad r4, r0, r8, r4\n",
            "smlad r12, r1, r8, r12\n",
            "smlad r4, r2, r9, r4\n",
            "smlad r12, r3, r9, r12\n",
            "smlad r5, r0, r10, r5\n",
            "smlad lr, r1, r10, lr\n",
            "smlad r5, r2, r11, r5\n",
            "smlad lr, r3, r11, lr\n",
        )
    };
}

/// `pairs_group` for column 0 alone (`dot_wide_pairs_store::<_, 1>`): the 4 SMLAD into r4 and
/// r5 (24 bytes of code).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! single_group {
    () => {
        concat!(
            "ldm.w r6!, {{r0-r3}}\n",
            "ldm.w r7!, {{r8-r11}}\n",
            "smlad r4, r0, r8, r4\n",
            "smlad r4, r2, r9, r4\n",
            "smlad r5, r0, r10, r5\n",
            "smlad r5, r2, r11, r5\n",
        )
    };
}

/// Two channels by two columns over 16-bit pairs: per group of 4 taps `cols` holds `[even col0 |
/// even col1 << 32, odd col0 | odd col1 << 32]` and `w` `[channel 0 even | odd << 32, channel 1
/// likewise]`; `acc[column][channel]` gains the products of the groups both slices have. Whole
/// blocks of `WIDE_UNROLL` groups run in one loop (12 instructions per group, 2 per block), the
/// rest in Rust.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn dot_wide_2x2(cols: &[[u64; 2]], w: &[[u64; 2]], acc: [[i32; 2]; 2]) -> [[i32; 2]; 2] {
    let groups = cols.len().min(w.len());
    let whole = groups / WIDE_UNROLL * WIDE_UNROLL;
    let [[mut a00, mut a01], [mut a10, mut a11]] = acc;
    if whole > 0 {
        let end = cols[..whole].as_ptr_range().end;
        // SAFETY: reads only the first `whole` groups of `cols` and `w` (see the module audit).
        unsafe {
            core::arch::asm!(
                "2:",
                times4!(wide_group),
                "cmp {x}, {end}",
                "bne 2b",
                a00 = inout(reg) a00,
                a01 = inout(reg) a01,
                a10 = inout(reg) a10,
                a11 = inout(reg) a11,
                c0 = out(reg) _,
                c1 = out(reg) _,
                c2 = out(reg) _,
                c3 = out(reg) _,
                we = out(reg) _,
                wo = out(reg) _,
                x = inout(reg) cols.as_ptr() => _,
                w = inout(reg) w.as_ptr() => _,
                end = in(reg) end,
                options(readonly, nostack),
            );
        }
    }
    portable::dot_wide_2x2(
        &cols[whole..groups],
        &w[whole..groups],
        [[a00, a01], [a10, a11]],
    )
}

/// Requantizes accumulators `$a` and `$b` (one channel's two values) to `$out` with the
/// constants in r0-r3 (`ChannelRequant`: nudge low and high, multiplier, shift and offset
/// bytes), `$lo` and `$hi` scratch (r8 and r10 unless given; `$hi` may be `$a`, read before):
/// as `saturate_pair` (`late`: `LATE`), the two bytes in `$out`'s low half.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! requantize_pair {
    ($a:literal, $b:literal, $out:literal $(, $late:ident)?) => {
        requantize_pair!($a, $b, $out, "r8", "r10" $(, $late)?)
    };
    ($a:literal, $b:literal, $out:literal, $lo:literal, $hi:literal $(, $late:ident)?) => {
        concat!(
            "and ", $lo, ", ", $a, ", #0x80000000\n",
            "adds ", $lo, ", ", $lo, ", r0\n",
            "adc ", $out, ", r1, ", $a, ", asr #31\n",
            "smlal ", $lo, ", ", $out, ", ", $a, ", r2\n",
            "and ", $lo, ", ", $b, ", #0x80000000\n",
            "adds ", $lo, ", ", $lo, ", r0\n",
            "adc ", $hi, ", r1, ", $b, ", asr #31\n",
            "smlal ", $lo, ", ", $hi, ", ", $b, ", r2\n",
            "asr ", $out, ", ", $out, ", r3\n",
            "asr ", $hi, ", ", $hi, ", r3\n",
            $(requantize_pair!(@$late, $out, $hi),)?
            "ssat ", $out, ", #8, ", $out, "\n",
            "ssat ", $hi, ", #8, ", $hi, "\n",
            "bfi ", $out, ", ", $hi, ", #8, #8\n",
        )
    };
    (@late, $out:literal, $hi:literal) => {
        concat!(
            "sxtab ", $out, ", ", $out, ", r3, ror #8\n",
            "sxtab ", $hi, ", ", $hi, ", r3, ror #8\n",
        )
    };
}

/// Groups per iteration of `dot_wide_pairs_store`'s column loop.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
const STORE_UNROLL: usize = 16;

/// A layer's wide weights, folded biases and requantizations for `dot_wide_pairs_store` over
/// columns of `groups` groups: the channel pairs that all three have, derived once per layer.
#[derive(Clone, Copy)]
pub struct WideStore<'a> {
    w: &'a [[u64; 2]],
    bias: &'a [i32],
    rq: &'a [ChannelRequant],
    groups: usize,
    pairs: usize,
}

impl<'a> WideStore<'a> {
    pub fn new(
        groups: usize,
        w: &'a [[u64; 2]],
        bias: &'a [i32],
        rq: &'a [ChannelRequant],
    ) -> Self {
        let pairs = (bias.len().min(rq.len()) / 2).min(w.len() / groups.max(1));
        WideStore {
            w,
            bias,
            rq,
            groups,
            pairs,
        }
    }
}

/// `dot_wide_pairs`' products of `cols` with every channel pair of `layer` that `out` has rows
/// for (two each), each channel's two values requantized as
/// `ChannelRequant::saturate_pair::<LATE>` and stored to its row of `out` (`N` 1: one column),
/// all in one `asm!` block: the accumulators never leave registers. Stores nothing unless `cols`
/// has the layer's groups. Every channel must `saturate::<LATE>()` (else its values differ from
/// `apply_pair`).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(never)]
pub fn dot_wide_pairs_store<const LATE: bool, const N: usize>(
    layer: &WideStore,
    cols: &[[u64; 2]],
    out: &mut Columns<N>,
) {
    const { assert!(N == 1 || N == 2) };
    let WideStore { w, bias, rq, .. } = *layer;
    let groups = cols.len();
    let skipped = (STORE_UNROLL - groups % STORE_UNROLL) % STORE_UNROLL;
    let group_bytes = if N == 2 { 40 } else { 24 };
    let pairs = layer.pairs.min(out.rows() / 2);
    if groups != layer.groups || groups == 0 || pairs == 0 {
        return;
    }
    // A pair's first loads and loop entry: at the top, or by BX to the entry (the alignment
    // that ADR needs to be exact, after the BX where nothing runs it).
    macro_rules! entry {
        (top, load) => {
            "ldrd r0, r6, [sp]"
        };
        (top, jump) => {
            ""
        };
        (bx, load) => {
            "ldm sp, {{r0, r6, r8}}"
        };
        (bx, jump) => {
            "bx r8\n.p2align 2"
        };
    }
    // The loop's end test, or none for a single pass.
    macro_rules! tail {
        (once) => {
            ""
        };
        (repeat) => {
            "ldr r8, [sp, #28]\ncmp r6, r8\nbne 2b"
        };
    }
    macro_rules! store_asm {
        ($group:ident, $store:literal, $entry:ident, $tail:ident $(, $late:ident)?) => {
            core::arch::asm!(
                "push {{r6, r7}}",
                "sub sp, sp, #32",
                "strd r0, r1, [sp]",
                "adr r0, 2f",
                "add r0, r0, r9",
                "str r0, [sp, #8]",
                "strd r2, r8, [sp, #12]",
                "strd r10, r3, [sp, #20]",
                "str r4, [sp, #28]",
                "mov r7, r5",
                "3:",
                entry!($entry, load),
                "ldrd r4, r5, [r0]",
                "ldrd r12, lr, [r0], #8",
                "str r0, [sp]",
                // The entry (BX, then the alignment ADR needs to be exact) where it is taken.
                entry!($entry, jump),
                "2:",
                times16!($group),
                tail!($tail),
                "ldr r6, [sp, #12]",
                "ldm r6!, {{r0-r3}}",
                requantize_pair!("r4", "r12", "r9" $(, $late)?),
                "ldm r6!, {{r0-r3}}",
                requantize_pair!("r5", "lr", "r11" $(, $late)?),
                "ldrd r0, r1, [sp, #16]",
                concat!($store, " r9, [r0]"),
                concat!($store, " r11, [r0, r1]"),
                "add r0, r0, r1, lsl #1",
                "strd r6, r0, [sp, #12]",
                "ldr r1, [sp, #24]",
                "cmp r6, r1",
                "bne 3b",
                "add sp, sp, #32",
                "pop {{r6, r7}}",
                inout("r0") bias.as_ptr() => _,
                inout("r1") cols.as_ptr() => _,
                inout("r2") rq.as_ptr() => _,
                inout("r3") rq[..2 * pairs].as_ptr_range().end => _,
                inout("r4") cols.as_ptr_range().end => _,
                inout("r5") w.as_ptr() => _,
                inout("r8") out.at() => _,
                inout("r9") group_bytes * skipped + 1 => _,
                inout("r10") out.stride() => _,
                out("r11") _,
                out("r12") _,
                out("lr") _,
            )
        };
    }
    // SAFETY: reads all of `cols`, the first `pairs * groups` groups of `w`, `2 * pairs`
    // elements of `bias` and of `rq`, writes two bytes of `2 * pairs` rows of `out` (see the
    // module audit). The entry offset carries the Thumb bit for BX.
    unsafe {
        // Columns of whole iterations (most layers) enter at the top, the others by BX; columns
        // of at most one iteration (depth <= 64) run it without the loop's end test.
        match (LATE, N, skipped, groups <= STORE_UNROLL) {
            (false, 2, 0, true) => store_asm!(pairs_group, "strh", top, once),
            (true, 2, 0, true) => store_asm!(pairs_group, "strh", top, once, late),
            (false, 2, _, true) => store_asm!(pairs_group, "strh", bx, once),
            (true, 2, _, true) => store_asm!(pairs_group, "strh", bx, once, late),
            (false, 2, 0, false) => store_asm!(pairs_group, "strh", top, repeat),
            (true, 2, 0, false) => store_asm!(pairs_group, "strh", top, repeat, late),
            (false, 2, _, false) => store_asm!(pairs_group, "strh", bx, repeat),
            (true, 2, _, false) => store_asm!(pairs_group, "strh", bx, repeat, late),
            (false, _, _, _) => store_asm!(single_group, "strb", bx, repeat),
            (true, _, _, _) => store_asm!(single_group, "strb", bx, repeat, late),
        }
    }
}

/// `dot_wide_pairs_store` where the DSP instructions are missing, and in the unit tests.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
pub fn dot_wide_pairs_store<const LATE: bool, const N: usize>(
    layer: &WideStore,
    cols: &[[u64; 2]],
    out: &mut Columns<N>,
) {
    let WideStore { w, bias, rq, .. } = *layer;
    let (groups, pairs) = (cols.len(), layer.pairs.min(out.rows() / 2));
    if groups != layer.groups || groups == 0 {
        return;
    }
    for (p, ws) in w.chunks_exact(groups).take(pairs).enumerate() {
        let (c, b) = (2 * p, [bias[2 * p], bias[2 * p + 1]]);
        let [[a00, a01], [a10, a11]] = dot_wide_2x2(cols, ws, [b; 2]);
        let v0 = rq[c].saturate_pair::<LATE>([a00, a10]);
        let v1 = rq[c + 1].saturate_pair::<LATE>([a01, a11]);
        out.set(c, core::array::from_fn(|k| v0[k]));
        out.set(c + 1, core::array::from_fn(|k| v1[k]));
    }
}

/// The first groups of 4 input channels of a 1x1 convolution's two columns at pixels `px` and
/// `px + 1` of channel planes `plane` bytes apart in `xs`, as `gemm::pack_pointwise_pair` makes
/// them (per group `[pixel 0 taps (0, 2), pixel 1 (0, 2), pixel 0 (1, 3), pixel 1 (1, 3)]`,
/// sign-extended 16-bit pairs): every whole group of the first `c_in` channels that `cols` and
/// `xs` hold, in one `asm!` loop (4 LDRH, 2 PKHBT, 4 SXTB16, one STM per group). Returns how many
/// groups it packed (0 without the DSP instructions).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn pack_pointwise_groups(
    xs: &[u8],
    plane: usize,
    px: usize,
    c_in: usize,
    cols: &mut [[u32; 4]],
) -> usize {
    let whole = cols.len().min(c_in / 4);
    // The last group's last plane ends inside `xs` (else the caller packs all).
    if whole == 0 || (4 * whole - 1) * plane + px + 2 > xs.len() {
        return 0;
    }
    let end = cols[..whole].as_mut_ptr_range().end;
    macro_rules! group {
        () => {
            concat!(
                "ldrh r0, [{p}]\n",
                "ldrh r2, [{p}, {s1}]\n",
                "ldrh r1, [{p}, {s2}]\n",
                "ldrh r3, [{p}, {s3}]\n",
                "add {p}, {p}, {s2}, lsl #1\n",
                "pkhbt r0, r0, r1, lsl #16\n",
                "pkhbt r2, r2, r3, lsl #16\n",
                "sxtb16 r1, r0, ror #8\n",
                "sxtb16 r0, r0\n",
                "sxtb16 r3, r2, ror #8\n",
                "sxtb16 r2, r2\n",
                "stm {d}!, {{r0-r3}}\n",
            )
        };
    }
    macro_rules! pack_asm {
        ($($group:expr),*) => {
            core::arch::asm!(
                "2:",
                $($group,)*
                "cmp {d}, {end}",
                "bne 2b",
                out("r0") _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                p = inout(reg) xs[px..].as_ptr() => _,
                s1 = in(reg) plane,
                s2 = in(reg) 2 * plane,
                s3 = in(reg) 3 * plane,
                d = inout(reg) cols.as_mut_ptr() => _,
                end = in(reg) end,
                options(nostack),
            )
        };
    }
    // SAFETY: reads 2 bytes at `px` of planes `0..4 * whole` of `xs` and writes the first `whole`
    // elements of `cols` (see the module audit).
    unsafe {
        if whole % 2 == 0 {
            pack_asm!(group!(), group!());
        } else {
            pack_asm!(group!());
        }
    }
    whole
}

/// Positions `0..4 * quads` of one group of 4 channel rows (`src[k * plane..]` is channel `k`'s
/// row, k < 4) sign-extended and transposed into a ring row of `G` groups per position
/// (`dst[position * G + g]` = `even | odd << 32`, even the channels (0, 2), odd (1, 3)), as
/// `gemm::extend_row`'s loop: per 4 positions 4 LDR, 8 SXTB16, 8 PKHBT/PKHTB and 8 STR in one
/// `asm!` loop. Returns how many quads it wrote (all, or 0 if the slices are short, `g >= G`
/// or without the DSP instructions).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn extend_quads<const G: usize>(
    src: &[u8],
    plane: usize,
    quads: usize,
    dst: &mut [u64],
    g: usize,
) -> usize {
    let reads = 4 * quads + 3 * plane;
    if quads == 0 || g >= G || src.len() < reads || dst.len() < 4 * quads * G {
        return 0;
    }
    macro_rules! transpose {
        ($a:literal, $c:literal, $at:literal) => {
            concat!(
                "sxtb16 {e0}, {",
                $a,
                "}\n",
                "sxtb16 {y}, {",
                $c,
                "}\n",
                "pkhtb {e2}, {y}, {e0}, asr #16\n",
                "pkhbt {e0}, {e0}, {y}, lsl #16\n",
                "sxtb16 {",
                $a,
                "}, {",
                $a,
                "}, ror #8\n",
                "sxtb16 {",
                $c,
                "}, {",
                $c,
                "}, ror #8\n",
                "pkhtb {y}, {",
                $c,
                "}, {",
                $a,
                "}, asr #16\n",
                "pkhbt {",
                $a,
                "}, {",
                $a,
                "}, {",
                $c,
                "}, lsl #16\n",
                "str {e0}, [{q}, #",
                $at,
                "]\n",
                "str {",
                $a,
                "}, [{q}, #",
                $at,
                " + {p1}]\n",
                "str {e2}, [{q}, #",
                $at,
                " + {p2}]\n",
                "str {y}, [{q}, #",
                $at,
                " + {p3}]\n",
            )
        };
    }
    let end = src[4 * quads..].as_ptr();
    // SAFETY: reads bytes `k * plane + 4 * j..+ 4` of `src` (k < 4, j < quads) and writes words
    // `(4 * j + p) * G + g` of `dst` (p < 4), all inside the slices (checked above; see the
    // module audit).
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {x0}, [{pa}]",
            "ldr {x1}, [{pa}, {pl}]",
            "ldr {x2}, [{pa}, {pl}, lsl #1]",
            "ldr {x3}, [{pa}, {s3}]",
            "add {pa}, {pa}, #4",
            transpose!("x0", "x2", "0"),
            transpose!("x1", "x3", "4"),
            "add {q}, {q}, #{quad}",
            "cmp {pa}, {end}",
            "bne 2b",
            x0 = out(reg) _,
            x1 = out(reg) _,
            x2 = out(reg) _,
            x3 = out(reg) _,
            e0 = out(reg) _,
            e2 = out(reg) _,
            y = out(reg) _,
            pa = inout(reg) src.as_ptr() => _,
            pl = in(reg) plane,
            s3 = in(reg) 3 * plane,
            q = inout(reg) dst[g..].as_mut_ptr() => _,
            end = in(reg) end,
            p1 = const 8 * G,
            p2 = const 16 * G,
            p3 = const 24 * G,
            quad = const 32 * G,
            options(nostack),
        );
    }
    quads
}

/// `extend_quads` where the DSP instructions are missing: none (the caller extends).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn extend_quads<const G: usize>(
    _src: &[u8],
    _plane: usize,
    _quads: usize,
    _dst: &mut [u64],
    _g: usize,
) -> usize {
    0
}

/// One kernel row of a 3x3 depthwise pair of outputs into r8 and r9 (r10 and r11 scratch):
/// `$w` loads its word of 4 inputs into r10, `$u` (stride 2) the word 2 inputs on into r11;
/// `$a`/`$b` are the accumulators' values before it (the bias for the first row).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! depthwise_row {
    (1, $outer:literal, $mid:literal, $lo:literal, $hi:literal, $a:literal, $b:literal,
     [$w:literal]) => {
        concat!(
            $w, "\n",
            "sxtb16 r11, r10, ror #8\n",
            "sxtb16 r10, r10\n",
            "smlad r8, r10, ", $outer, ", ", $a, "\n",
            "smlad r9, r11, ", $outer, ", ", $b, "\n",
            "smla", $lo, " r8, r11, ", $mid, ", r8\n",
            "smla", $hi, " r9, r10, ", $mid, ", r9\n",
        )
    };
    (2, $outer:literal, $mid:literal, $lo:literal, $hi:literal, $a:literal, $b:literal,
     [$w:literal $($u:literal)*]) => {
        concat!(
            $w, "\n",
            $($u, "\n",)*
            "sxtb16 r11, r11\n",
            "smlad r9, r11, ", $outer, ", ", $b, "\n",
            "sxtb16 r11, r10, ror #8\n",
            "smla", $lo, " r8, r11, ", $mid, ", ", $a, "\n",
            "smla", $hi, " r9, r11, ", $mid, ", r9\n",
            "sxtb16 r10, r10\n",
            "smlad r8, r10, ", $outer, ", r8\n",
        )
    };
}

/// The input step from the end of a row's pairs to the next row of `depthwise3_rows` and
/// `depthwise3_channel` over `rows` rows of `width` outputs, if the shape is theirs (stride 1 or
/// 2, rows and width nonzero, the pairs within a row's pitch) and every word the pairs read lies
/// inside `xs`.
#[inline(always)]
fn depthwise3_step<const S: usize>(
    xs: &[u8],
    pitch: usize,
    (rows, width): (usize, usize),
) -> Option<usize> {
    let pairs = width.div_ceil(2);
    let reads = (S * rows + 2 - S) * pitch + 2 * S * pairs + 2;
    let shape = rows > 0 && width > 0 && (S == 1 || S == 2) && xs.len() >= reads;
    (S * pitch).checked_sub(2 * S * pairs).filter(|_| shape)
}

/// 3x3 depthwise rows at stride `S` (1 or 2): `acc[r * width + x]` (r < rows, x < width) =
/// `bias` plus, over kernel rows `k` (input rows `xs[(S * r + k) * pitch..]`), `w[k]` (the
/// 16-bit pair of the row's outer weights) times inputs `S * x` and `S * x + 2` and the row's
/// middle weight (`middle`: rows 0 and 1 as one 16-bit pair, row 2 in the low half of the
/// second word) times input `S * x + 1`. One `asm!` loop over pairs of outputs and rows: per
/// kernel row an unaligned word of 4 inputs (at stride 2 also the word 2 inputs on, whose SXTB16
/// is the second output's outer pair), SXTB16, 2 SMLAD and 2 SMLAxy; 26 instructions per pair
/// at stride 1, 33 at stride 2, 11 per row. An odd width's last pair writes one accumulator
/// past the row, which the next row overwrites. Returns whether it ran: `acc` must hold
/// `rows * width` plus that one, `xs` the inputs the pairs read (else false, and always without
/// the DSP instructions).
#[inline(always)]
pub fn depthwise3_rows<const S: usize>(
    xs: &[u8],
    pitch: usize,
    w: [u32; 3],
    middle: [u32; 2],
    bias: i32,
    acc: &mut [i32],
    (rows, width): (usize, usize),
) -> bool {
    let advance = depthwise3_step::<S>(xs, pitch, (rows, width));
    let (Some(advance), true) = (advance, acc.len() >= rows * width + width % 2) else {
        return false;
    };
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        macro_rules! rows_asm {
            ($s:tt, $step:literal, $row0:tt, $row1:tt, $row2:tt) => {
                core::arch::asm!(
                    "push {{r6, r7}}",
                    "sub sp, sp, #24",
                    "mov r6, r8",
                    "str r9, [sp, #16]",
                    "and r8, r10, #4",
                    "add r9, r10, #4",
                    "bic r9, r9, #7",
                    "str r9, [sp, #4]",
                    "strd r11, r8, [sp, #8]",
                    "add r8, r6, r9",
                    "str r8, [sp]",
                    "add r7, lr, #1",
                    "2:",
                    depthwise_row!($s, "r0", "r3", "bb", "tb", "r5", "r5", $row0),
                    depthwise_row!($s, "r1", "r3", "bt", "tt", "r8", "r9", $row1),
                    depthwise_row!($s, "r2", "r4", "bb", "tb", "r8", "r9", $row2),
                    concat!("add r12, r12, #", $step),
                    "strd r8, r9, [r6], #8",
                    "ldr r10, [sp]",
                    "cmp r6, r10",
                    "bne 2b",
                    "ldrd r10, r11, [sp, #8]",
                    "add r12, r12, r10",
                    "sub r6, r6, r11",
                    "ldr r10, [sp, #4]",
                    "add r10, r6, r10",
                    "str r10, [sp]",
                    "ldr r10, [sp, #16]",
                    "cmp r6, r10",
                    "bne 2b",
                    "add sp, sp, #24",
                    "pop {{r6, r7}}",
                    in("r0") w[0],
                    in("r1") w[1],
                    in("r2") w[2],
                    in("r3") middle[0],
                    in("r4") middle[1],
                    in("r5") bias,
                    inout("r8") acc.as_mut_ptr() => _,
                    inout("r9") acc[rows * width..].as_mut_ptr() => _,
                    inout("r10") 4 * width => _,
                    inout("r11") advance => _,
                    inout("r12") xs.as_ptr() => _,
                    in("lr") pitch,
                )
            };
        }
        // SAFETY: reads 4 bytes at `(S * r + k) * pitch + 2Sj` (and at stride 2 also 2 bytes
        // on) of `xs` for r < rows, k < 3, j < pairs; writes `acc[..rows * width + width % 2]`
        // (see the module audit).
        unsafe {
            if S == 1 {
                rows_asm!(
                    1,
                    "2",
                    ["ldr r10, [r12]"],
                    ["ldr r10, [r12, lr]"],
                    ["ldr r10, [r12, lr, lsl #1]"]
                );
            } else {
                // r7 = pitch + 1: the third row's second word is at 2 * r7 bytes on.
                rows_asm!(
                    2,
                    "4",
                    ["ldr r10, [r12]" "ldr r11, [r12, #2]"],
                    ["ldr r10, [r12, lr]" "add r11, r12, lr" "ldr r11, [r11, #2]"],
                    ["ldr r10, [r12, lr, lsl #1]" "ldr r11, [r12, r7, lsl #1]"]
                );
            }
        }
        true
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        let _ = (advance, w, middle, bias);
        false
    }
}

/// `depthwise3_rows` of a whole channel with each pair of outputs requantized as
/// `ChannelRequant::saturate_pair::<LATE>` (`rq` must `saturate::<LATE>()`) and stored straight
/// to `y` (`rows * width` bytes, row by row), in one `asm!` block: no accumulator leaves the
/// registers. Per pair the row products, then the weights give way to the requantization
/// constants (2 LDRD from the stack, one LDM restores them), SSAT and one halfword store; 42
/// instructions per pair at stride 1, 46 at stride 2 (2 more with `LATE`), 12 per row. An odd
/// width's last pair stores its first value alone. Returns whether it ran (`xs` as
/// `depthwise3_rows` needs, `y` at least `rows * width` bytes; always false without the DSP
/// instructions).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn depthwise3_channel<const S: usize, const LATE: bool>(
    xs: &[u8],
    pitch: usize,
    w: [u32; 3],
    middle: [u32; 2],
    bias: i32,
    rq: &ChannelRequant,
    y: &mut [i8],
    (rows, width): (usize, usize),
) -> bool {
    let advance = depthwise3_step::<S>(xs, pitch, (rows, width));
    let (Some(advance), true) = (advance, y.len() >= rows * width) else {
        return false;
    };
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        let [nudge_lo, nudge_hi, multiplier, shift_offset] = rq.words();
        // Words 4-7 and 9-12 of the asm's stack block (0-3: the weights r0-r3, 8: a row's end).
        let block: [u32; 8] = [
            nudge_lo,
            nudge_hi,
            multiplier,
            shift_offset,
            y[rows * width..].as_ptr() as u32,
            advance as u32,
            (width & !1) as u32,
            (width & 1) as u32,
        ];
        // One pair: the row products into r8, r9, the constants into r0-r3, the two bytes
        // into r11.
        macro_rules! pair {
            ($s:tt, $step:literal, [$row0:tt, $row1:tt, $row2:tt] $(, $late:ident)?) => {
                concat!(
                    depthwise_row!($s, "r0", "r3", "bb", "tb", "r5", "r5", $row0),
                    depthwise_row!($s, "r1", "r3", "bt", "tt", "r8", "r9", $row1),
                    depthwise_row!($s, "r2", "r4", "bb", "tb", "r8", "r9", $row2),
                    "add r12, r12, #", $step, "\n",
                    "ldrd r0, r1, [sp, #16]\n",
                    "ldrd r2, r3, [sp, #24]\n",
                    requantize_pair!("r8", "r9", "r11", "r10", "r8" $(, $late)?),
                )
            };
        }
        macro_rules! channel_asm {
            ($s:tt, $step:literal, $rows:tt $(, $late:ident)?) => {
                core::arch::asm!(
                    "push {{r6, r7}}",
                    "sub sp, sp, #56",
                    "stm sp, {{r0-r3}}",
                    "ldm r9!, {{r0-r3}}",
                    "add r6, sp, #16",
                    "stm r6, {{r0-r3}}",
                    "ldm r9, {{r0-r3}}",
                    "add r6, sp, #36",
                    "stm r6, {{r0-r3}}",
                    "ldm sp, {{r0-r3}}",
                    "mov r6, r8",
                    "add r7, lr, #1",
                    // A row: its full pairs, then an odd width's last.
                    "3:",
                    "ldr r10, [sp, #44]",
                    "add r10, r6, r10",
                    "str r10, [sp, #32]",
                    "cmp r6, r10",
                    "beq 4f",
                    "2:",
                    pair!($s, $step, $rows $(, $late)?),
                    "strh r11, [r6], #2",
                    "ldm sp, {{r0-r3}}",
                    "ldr r10, [sp, #32]",
                    "cmp r6, r10",
                    "bne 2b",
                    "4:",
                    "ldr r10, [sp, #48]",
                    "cmp r10, #0",
                    "beq 5f",
                    pair!($s, $step, $rows $(, $late)?),
                    "strb r11, [r6], #1",
                    "ldm sp, {{r0-r3}}",
                    "5:",
                    "ldrd r10, r11, [sp, #36]",
                    "add r12, r12, r11",
                    "cmp r6, r10",
                    "bne 3b",
                    "add sp, sp, #56",
                    "pop {{r6, r7}}",
                    inout("r0") w[0] => _,
                    inout("r1") w[1] => _,
                    inout("r2") w[2] => _,
                    inout("r3") middle[0] => _,
                    in("r4") middle[1],
                    in("r5") bias,
                    inout("r8") y.as_mut_ptr() => _,
                    inout("r9") block.as_ptr() => _,
                    out("r10") _,
                    out("r11") _,
                    inout("r12") xs.as_ptr() => _,
                    in("lr") pitch,
                )
            };
        }
        // SAFETY: reads the inputs `depthwise3_rows` reads and `block`, writes `y[..rows *
        // width]` (see the module audit).
        unsafe {
            match (S, LATE) {
                (1, false) => channel_asm!(
                    1,
                    "2",
                    [
                        ["ldr r10, [r12]"],
                        ["ldr r10, [r12, lr]"],
                        ["ldr r10, [r12, lr, lsl #1]"]
                    ]
                ),
                (1, true) => channel_asm!(
                    1,
                    "2",
                    [
                        ["ldr r10, [r12]"],
                        ["ldr r10, [r12, lr]"],
                        ["ldr r10, [r12, lr, lsl #1]"]
                    ],
                    late
                ),
                (_, false) => channel_asm!(
                    2,
                    "4",
                    [
                        ["ldr r10, [r12]" "ldr r11, [r12, #2]"],
                        ["ldr r10, [r12, lr]" "add r11, r12, lr" "ldr r11, [r11, #2]"],
                        ["ldr r10, [r12, lr, lsl #1]" "ldr r11, [r12, r7, lsl #1]"]
                    ]
                ),
                (_, true) => channel_asm!(
                    2,
                    "4",
                    [
                        ["ldr r10, [r12]" "ldr r11, [r12, #2]"],
                        ["ldr r10, [r12, lr]" "add r11, r12, lr" "ldr r11, [r11, #2]"],
                        ["ldr r10, [r12, lr, lsl #1]" "ldr r11, [r12, r7, lsl #1]"]
                    ],
                    late
                ),
            }
        }
        true
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        let _ = (advance, w, middle, bias, rq, y);
        false
    }
}

/// `groups` groups of 4 input channels of two side-by-side pixels at each input position of
/// `starts` (bytes into channel planes `plane` bytes apart in `xs`), in `pack_pointwise_groups`'
/// layout, one position after another into `cols`: a channel-last window's columns. One `asm!`
/// loop (per group 4 LDRH, 2 PKHBT, 4 SXTB16, one STM; 5 instructions per position), plain
/// Rust without the DSP instructions. Returns whether it packed: every start's reads inside `xs`
/// and `cols` long enough.
#[inline(always)]
pub fn pack_groups_at(
    xs: &[u8],
    plane: usize,
    starts: &[usize],
    groups: usize,
    cols: &mut [[u32; 4]],
) -> bool {
    let reach = (4 * groups).saturating_sub(1) * plane + 2;
    let inside = starts
        .iter()
        .all(|&s| s.checked_add(reach).is_some_and(|end| end <= xs.len()));
    if !inside || starts.is_empty() || groups == 0 || cols.len() < starts.len() * groups {
        return false;
    }
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        // SAFETY: reads 2 bytes at `s + j * plane` of `xs` (j < 4 * groups) for every start `s`
        // and writes the first `starts.len() * groups` elements of `cols` (see the module
        // audit).
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                "mov r6, r0",
                "2:",
                "ldr r4, [r11], #4",
                "add r4, r4, r6",
                "add r5, r4, lr",
                "3:",
                "ldrh r0, [r4]",
                "ldrh r2, [r4, r8]",
                "ldrh r1, [r4, r8, lsl #1]",
                "ldrh r3, [r4, r9]",
                "add r4, r4, r8, lsl #2",
                "pkhbt r0, r0, r1, lsl #16",
                "pkhbt r2, r2, r3, lsl #16",
                "sxtb16 r1, r0, ror #8",
                "sxtb16 r0, r0",
                "sxtb16 r3, r2, ror #8",
                "sxtb16 r2, r2",
                "stm r10!, {{r0-r3}}",
                "cmp r4, r5",
                "bne 3b",
                "cmp r11, r12",
                "bne 2b",
                "pop {{r6, r7}}",
                inout("r0") xs.as_ptr() => _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                out("r4") _,
                out("r5") _,
                in("r8") plane,
                in("r9") 3 * plane,
                inout("r10") cols.as_mut_ptr() => _,
                inout("r11") starts.as_ptr() => _,
                in("r12") starts.as_ptr_range().end,
                in("lr") 4 * groups * plane,
            );
        }
        true
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        for (&start, cols) in starts.iter().zip(cols.chunks_exact_mut(groups)) {
            let xs = &xs[start..][..reach];
            let half = |c: usize| u32::from(xs[c * plane]) | u32::from(xs[c * plane + 1]) << 8;
            for (g, col) in cols.iter_mut().enumerate() {
                let c = 4 * g;
                let (even, odd) = (half(c) | half(c + 2) << 16, half(c + 1) | half(c + 3) << 16);
                *col = [sxtb16(even), sxtb16_odd(even), sxtb16(odd), sxtb16_odd(odd)];
            }
        }
        true
    }
}

/// `pack_pointwise_groups` where the DSP instructions are missing: none (the caller packs).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn pack_pointwise_groups(
    _xs: &[u8],
    _plane: usize,
    _px: usize,
    _c_in: usize,
    _cols: &mut [[u32; 4]],
) -> usize {
    0
}

/// `interleave_columns` of the runs `words[s..s + run]` and `words[s + apart..s + apart + run]`
/// into `dst[k * run..(k + 1) * run]` for each start `s = starts[k]`, in one `asm!` loop (per 2
/// groups 2 LDRD from each run and 2 STM; 5 per run). Returns whether it ran: `run` even and
/// nonzero, every run inside `words`, `dst` long enough (else false, and always without the DSP
/// instructions).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn interleave_runs(
    words: &[u64],
    starts: &[usize],
    apart: usize,
    run: usize,
    dst: &mut [[u64; 2]],
) -> bool {
    let inside = starts.iter().all(|&s| s + apart + run <= words.len());
    if run == 0 || run % 2 != 0 || starts.is_empty() || dst.len() < starts.len() * run {
        return false;
    }
    if !inside {
        return false;
    }
    let starts = starts.as_ptr_range();
    // SAFETY: reads `words[s..s + run]` and `words[s + apart..s + apart + run]` for each start
    // `s`, writes `dst[..starts.len() * run]` (see the module audit).
    macro_rules! runs_asm {
        ($($copy:literal)*) => {
            core::arch::asm!(
                "3:",
                "ldr {a}, [{s}], #4",
                "add {a}, {base}, {a}, lsl #3",
                "add {b}, {a}, {apart}",
                "add {e}, {a}, {bytes}",
                "2:",
                $($copy,)*
                "cmp {a}, {e}",
                "bne 2b",
                "cmp {s}, {send}",
                "bne 3b",
                out("r0") _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                a = out(reg) _,
                b = out(reg) _,
                e = out(reg) _,
                s = inout(reg) starts.start => _,
                send = in(reg) starts.end,
                base = in(reg) words.as_ptr(),
                apart = in(reg) 8 * apart,
                bytes = in(reg) 8 * run,
                d = inout(reg) dst.as_mut_ptr() => _,
                options(nostack),
            )
        };
    }
    // SAFETY: reads `words[s..s + run]` and `words[s + apart..s + apart + run]` for each start
    // `s`, writes `dst[..starts.len() * run]` (see the module audit).
    unsafe {
        if run % 4 == 0 {
            runs_asm!(
                "ldrd r0, r2, [{a}], #8" "ldrd r1, r3, [{b}], #8" "stm {d}!, {{r0-r3}}"
                "ldrd r0, r2, [{a}], #8" "ldrd r1, r3, [{b}], #8" "stm {d}!, {{r0-r3}}"
                "ldrd r0, r2, [{a}], #8" "ldrd r1, r3, [{b}], #8" "stm {d}!, {{r0-r3}}"
                "ldrd r0, r2, [{a}], #8" "ldrd r1, r3, [{b}], #8" "stm {d}!, {{r0-r3}}"
            );
        } else {
            runs_asm!(
                "ldrd r0, r2, [{a}], #8" "ldrd r1, r3, [{b}], #8" "stm {d}!, {{r0-r3}}"
                "ldrd r0, r2, [{a}], #8" "ldrd r1, r3, [{b}], #8" "stm {d}!, {{r0-r3}}"
            );
        }
    }
    true
}

/// The taps of two output pixels of a 3x3 convolution (dilation 1 along rows) whose windows lie
/// inside the input, in plain tap order (channel, kernel row, kernel column): `taps[9c + 3k + j]`
/// = tap `j` of kernel row `k` of channel `c` for pixel 0 in the low half and pixel 1 (`S`
/// inputs on) in the high half, sign-extended. Row `k` of channel `c` starts at
/// `xs[start + c * plane + k * row_step]`. Per kernel row one `asm!` iteration: an unaligned word
/// (and at stride 2 a second one 2 bytes on), 3 SXTB16 (stride 1: 2 SXTB16 and 3 PKHBT/PKHTB)
/// and one STM. Returns whether it ran: `S` 1 or 2, `channels >= 1`, the reads inside `xs` and
/// `taps` long enough (else false, and always without the DSP instructions).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn gather_taps3<const S: usize>(
    xs: &[u8],
    (start, plane, row_step): (usize, usize, usize),
    channels: usize,
    taps: &mut [u32],
) -> bool {
    let last = start + (channels.max(1) - 1) * plane + 2 * row_step + if S == 2 { 6 } else { 4 };
    if !(S == 1 || S == 2) || channels == 0 || last > xs.len() || taps.len() < 9 * channels {
        return false;
    }
    let Some(channel_step) = plane.checked_sub(3 * row_step) else {
        return false;
    };
    let end = taps[9 * channels..].as_mut_ptr();
    macro_rules! row {
        (1) => {
            concat!(
                "ldr {w}, [{p}]\n",
                "sxtb16 {v}, {w}\n",
                "sxtb16 {w}, {w}, ror #8\n",
                "pkhbt r0, {v}, {w}, lsl #16\n",
                "pkhbt r1, {w}, {v}\n",
                "pkhtb r2, {w}, {v}, asr #16\n",
                "stm {d}!, {{r0-r2}}\n",
                "add {p}, {p}, {rs}\n",
            )
        };
        (2) => {
            concat!(
                "ldr {w}, [{p}]\n",
                "ldr {v}, [{p}, #2]\n",
                "sxtb16 r0, {w}\n",
                "sxtb16 r1, {w}, ror #8\n",
                "sxtb16 r2, {v}\n",
                "stm {d}!, {{r0-r2}}\n",
                "add {p}, {p}, {rs}\n",
            )
        };
    }
    macro_rules! gather_asm {
        ($s:tt) => {
            core::arch::asm!(
                "2:",
                row!($s),
                row!($s),
                row!($s),
                "add {p}, {p}, {cs}",
                "cmp {d}, {end}",
                "bne 2b",
                out("r0") _,
                out("r1") _,
                out("r2") _,
                w = out(reg) _,
                v = out(reg) _,
                p = inout(reg) xs[start..].as_ptr() => _,
                rs = in(reg) row_step,
                cs = in(reg) channel_step,
                d = inout(reg) taps.as_mut_ptr() => _,
                end = in(reg) end,
                options(nostack),
            )
        };
    }
    // SAFETY: reads 4 bytes at (and at stride 2 also 2 bytes after) `start + c * plane +
    // k * row_step` of `xs` for c < channels, k < 3; writes `taps[..9 * channels]` (see the
    // module audit).
    unsafe {
        if S == 1 {
            gather_asm!(1);
        } else {
            gather_asm!(2);
        }
    }
    true
}

/// `gather_taps3` where the DSP instructions are missing: not run.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn gather_taps3<const S: usize>(
    _xs: &[u8],
    _at: (usize, usize, usize),
    _channels: usize,
    _taps: &mut [u32],
) -> bool {
    false
}

/// Groups of 4 tap pairs (`gather_taps3`'s words: pixel 0 low, pixel 1 high) rearranged in
/// place into the columns the product loops take: `[(p0 t0, p0 t2), (p1 t0, p1 t2), (p0 t1,
/// p0 t3), (p1 t1, p1 t3)]`. Per group one LDM, 4 PKHBT/PKHTB and one STM.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn pack_taps(cols: &mut [[u32; 4]]) {
    if cols.is_empty() {
        return;
    }
    let range = cols.as_mut_ptr_range();
    // SAFETY: reads and writes `cols` in place (see the module audit).
    unsafe {
        core::arch::asm!(
            "2:",
            "ldm {p}, {{r0-r3}}",
            "pkhbt r4, r0, r2, lsl #16",
            "pkhtb r5, r2, r0, asr #16",
            "pkhbt r8, r1, r3, lsl #16",
            "pkhtb r9, r3, r1, asr #16",
            "stm {p}!, {{r4, r5, r8, r9}}",
            "cmp {p}, {end}",
            "bne 2b",
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            p = inout(reg) range.start => _,
            end = in(reg) range.end,
            options(nostack),
        );
    }
}

/// `pack_taps` where the DSP instructions are missing (never called there: `gather_taps3`
/// does not run).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn pack_taps(cols: &mut [[u32; 4]]) {
    for c in cols {
        let [t0, t1, t2, t3] = *c;
        *c = [
            t0 & 0xffff | t2 << 16,
            t0 >> 16 | t2 & 0xffff_0000,
            t1 & 0xffff | t3 << 16,
            t1 >> 16 | t3 & 0xffff_0000,
        ];
    }
}

/// `dst[g] = [a[g] low | b[g] low << 32, a[g] high | b[g] high << 32]` (two columns' groups of
/// `even | odd << 32` as `dot_wide_2x2` takes them) for the groups all three slices have: two
/// groups per iteration in one `asm!` loop (per group LDRD of each source into r0/r2 and r1/r3,
/// one STM), an odd last one in Rust.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn interleave_columns(a: &[u64], b: &[u64], dst: &mut [[u64; 2]]) {
    let groups = a.len().min(b.len()).min(dst.len());
    let whole = groups & !1;
    if whole > 0 {
        let end = dst[..whole].as_mut_ptr_range().end;
        // SAFETY: reads the first `whole` elements of `a` and `b`, writes the first `whole` of
        // `dst` (see the module audit).
        unsafe {
            core::arch::asm!(
                "2:",
                "ldrd r0, r2, [{a}], #8",
                "ldrd r1, r3, [{b}], #8",
                "stm {d}!, {{r0-r3}}",
                "ldrd r0, r2, [{a}], #8",
                "ldrd r1, r3, [{b}], #8",
                "stm {d}!, {{r0-r3}}",
                "cmp {d}, {end}",
                "bne 2b",
                out("r0") _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                a = inout(reg) a.as_ptr() => _,
                b = inout(reg) b.as_ptr() => _,
                d = inout(reg) dst.as_mut_ptr() => _,
                end = in(reg) end,
                options(nostack),
            );
        }
    }
    portable::interleave_columns(
        &a[whole..groups],
        &b[whole..groups],
        &mut dst[whole..groups],
    );
}

/// One group of `dot_wide_row_pairs`: the column's even and odd pairs in r0 and r1 (LDRD), both
/// channels' weight pairs in r8-r11 (LDM), 4 SMLAD into r4 (channel 0) and r5 (channel 1); the
/// column pointer is r6, the weight pointer r7.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! row_group {
    () => {
        concat!(
            "ldrd r0, r1, [r6], #8\n",
            "ldm.w r7!, {{r8-r11}}\n",
            "smlad r4, r0, r8, r4\n",
            "smlad r4, r1, r9, r4\n",
            "smlad r5, r0, r10, r5\n",
            "smlad r5, r1, r11, r5\n",
        )
    };
}

/// One column (`col`: per group of 4 taps `even | odd << 32`) by every channel pair that `acc`,
/// `bias` (two per pair) and `w` (`col.len()` groups per pair, as in `dot_wide_2x2`) all have:
/// `acc[p][c]` = `bias[2p + c]` + the products of channel `2p + c`. With a whole number of
/// `WIDE_UNROLL` blocks the loop over the pairs runs in one `asm!` block (6 instructions per
/// group), else pair by pair.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn dot_wide_row_pairs(col: &[u64], w: &[[u64; 2]], bias: &[i32], acc: &mut [[i32; 2]]) {
    let groups = col.len();
    let pairs = acc.len().min(bias.len() / 2).min(w.len() / groups.max(1));
    if groups == 0 || groups % WIDE_UNROLL != 0 || pairs == 0 {
        return dot_wide_row_each(col, w, bias, acc);
    }
    let range = col.as_ptr_range();
    // SAFETY: reads all of `col`, the first `pairs * groups` groups of `w` and `2 * pairs`
    // elements of `bias`, writes the first `pairs` elements of `acc` (see the module audit).
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "sub sp, sp, #8",
            "str r0, [sp]",
            "mov r7, r1",
            "3:",
            "ldrd r4, r5, [r3], #8",
            "mov r6, r2",
            "2:",
            times4!(row_group),
            "cmp r6, r12",
            "bne 2b",
            "strd r4, r5, [lr], #8",
            "ldr r0, [sp]",
            "subs r0, r0, #1",
            "str r0, [sp]",
            "bne 3b",
            "add sp, sp, #8",
            "pop {{r6, r7}}",
            inout("r0") pairs => _,
            inout("r1") w.as_ptr() => _,
            in("r2") range.start,
            inout("r3") bias.as_ptr() => _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            in("r12") range.end,
            inout("lr") acc.as_mut_ptr() => _,
        );
    }
}

/// `dot_wide_row_pairs` pair by pair.
#[inline(always)]
fn dot_wide_row_each(col: &[u64], w: &[[u64; 2]], bias: &[i32], acc: &mut [[i32; 2]]) {
    let weights = w.chunks_exact(col.len().max(1));
    for ((a, &b), ws) in acc.iter_mut().zip(bias.as_chunks::<2>().0).zip(weights) {
        let mut sums = b;
        for (&x, ws) in col.iter().zip(ws) {
            let (even, odd) = (x as u32, (x >> 32) as u32);
            for (s, &wc) in sums.iter_mut().zip(ws) {
                *s = smlad(odd, (wc >> 32) as u32, smlad(even, wc as u32, *s));
            }
        }
        *a = sums;
    }
}

#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
pub use portable::{dot_wide_2x2, interleave_columns, smlad, smlad_ordered, sxtb16, sxtb16_odd};

/// `dot_wide_row_pairs` where the DSP instructions are missing: pair by pair.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn dot_wide_row_pairs(col: &[u64], w: &[[u64; 2]], bias: &[i32], acc: &mut [[i32; 2]]) {
    dot_wide_row_each(col, w, bias, acc);
}

/// For each channel pair `p` that `acc`, `bias` (two per pair) and `w` (`cols.len()` groups per
/// pair, `dot_wide_2x2`'s layout) all have: `acc[p]` = `dot_wide_2x2(cols, pair p's weights,
/// [[bias[2p], bias[2p + 1]]; 2])` transposed (`acc[p][channel][column]`), pair by pair (the
/// layers whose channels do not all saturate; the others take `dot_wide_pairs_store`).
#[inline(always)]
pub fn dot_wide_pairs(cols: &[[u64; 2]], w: &[[u64; 2]], bias: &[i32], acc: &mut [[[i32; 2]; 2]]) {
    let weights = w.chunks_exact(cols.len().max(1));
    for ((a, &b), ws) in acc.iter_mut().zip(bias.as_chunks::<2>().0).zip(weights) {
        let [[a00, a01], [a10, a11]] = dot_wide_2x2(cols, ws, [b; 2]);
        *a = [[a00, a10], [a01, a11]];
    }
}

/// The definitions, used where the DSP instructions are missing (and tested against them).
#[cfg_attr(all(target_arch = "arm", target_feature = "dsp"), allow(dead_code))]
mod portable {
    #[inline(always)]
    fn halves(v: u32) -> (i32, i32) {
        (
            i32::from(v as u16 as i16),
            i32::from((v >> 16) as u16 as i16),
        )
    }

    #[inline(always)]
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let ((a0, a1), (b0, b1)) = (halves(a), halves(b));
        acc.wrapping_add(a0 * b0).wrapping_add(a1 * b1)
    }

    #[inline(always)]
    pub fn smlad_ordered(a: u32, b: u32, acc: i32) -> i32 {
        smlad(a, b, acc)
    }

    #[inline(always)]
    pub fn sxtb16(v: u32) -> u32 {
        let byte = |shift: u32| u32::from((v >> shift) as u8 as i8 as i16 as u16);
        byte(0) | byte(16) << 16
    }

    #[inline(always)]
    pub fn sxtb16_odd(v: u32) -> u32 {
        sxtb16(v >> 8)
    }

    /// `interleave_columns` group by group.
    #[inline(always)]
    pub fn interleave_columns(a: &[u64], b: &[u64], dst: &mut [[u64; 2]]) {
        for ((d, &a), &b) in dst.iter_mut().zip(a).zip(b) {
            *d = [a & 0xffff_ffff | b << 32, a >> 32 | b & !0xffff_ffff];
        }
    }

    /// `dot_wide_2x2` group by group.
    #[inline(always)]
    pub fn dot_wide_2x2(cols: &[[u64; 2]], w: &[[u64; 2]], acc: [[i32; 2]; 2]) -> [[i32; 2]; 2] {
        let mut acc = acc;
        for (&[even, odd], ws) in cols.iter().zip(w) {
            for (c, &wc) in ws.iter().enumerate() {
                let (we, wo) = (wc as u32, (wc >> 32) as u32);
                acc[0][c] = smlad(odd as u32, wo, smlad(even as u32, we, acc[0][c]));
                let (even1, odd1) = ((even >> 32) as u32, (odd >> 32) as u32);
                acc[1][c] = smlad(odd1, wo, smlad(even1, we, acc[1][c]));
            }
        }
        acc
    }
}

// ---- Requantization (used by `ChannelRequant`'s single-multiply form, int8/mod.rs) ----

/// The high word of `acc * multiplier + nudge - [acc < 0] * 2^31` (64-bit, not overflowing for
/// the nudges `Rounding` makes): AND, ADDS and ADC add the sign-chosen nudge, SMLAL the product.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn high_mul_add_signed(acc: i32, multiplier: i32, nudge: i64) -> i32 {
    let high: i32;
    // SAFETY: register-only instructions (see the module audit).
    unsafe {
        core::arch::asm!(
            "and {lo}, {acc}, #0x80000000",
            "adds {lo}, {lo}, {nudge_lo}",
            "adc {hi}, {nudge_hi}, {acc}, asr #31",
            "smlal {lo}, {hi}, {acc}, {m}",
            lo = out(reg) _,
            hi = out(reg) high,
            acc = in(reg) acc,
            m = in(reg) multiplier,
            nudge_lo = in(reg) nudge as u32,
            nudge_hi = in(reg) (nudge >> 32) as i32,
            options(pure, nomem, nostack),
        );
    }
    high
}

/// Two accumulators of one channel: per value `high_mul_add_signed(acc, multiplier, nudge)`
/// shifted right arithmetically by the low byte of `shift_offset` (SSAT's range keeps shifts
/// past 31 equal to 31), plus its second byte as a signed offset if `LATE`, saturated to int8
/// (SSAT); one `asm!` block (8 registers: the second value takes the first accumulator's, the
/// offset the low word's), the two bytes merged by BFI for one halfword store.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
pub fn saturate_pair<const LATE: bool>(
    acc: [i32; 2],
    multiplier: i32,
    nudge: i64,
    shift_offset: u32,
) -> [i8; 2] {
    macro_rules! saturate_pair {
        ($($add:literal)*) => {
            concat!(
                "and {lo}, {a0}, #0x80000000\n",
                "adds {lo}, {lo}, {nudge_lo}\n",
                "adc {v0}, {nudge_hi}, {a0}, asr #31\n",
                "smlal {lo}, {v0}, {a0}, {m}\n",
                "and {lo}, {a1}, #0x80000000\n",
                "adds {lo}, {lo}, {nudge_lo}\n",
                "adc {a0}, {nudge_hi}, {a1}, asr #31\n",
                "smlal {lo}, {a0}, {a1}, {m}\n",
                "asr {v0}, {v0}, {shift}\n",
                "asr {a0}, {a0}, {shift}\n",
                $($add,)*
                "ssat {v0}, #8, {v0}\n",
                "ssat {a0}, #8, {a0}\n",
                "bfi {v0}, {a0}, #8, #8\n",
            )
        };
    }
    let v: u32;
    // SAFETY: register-only instructions (see the module audit).
    unsafe {
        if LATE {
            core::arch::asm!(
                saturate_pair!(
                    "sxtab {v0}, {v0}, {shift}, ror #8\n"
                    "sxtab {a0}, {a0}, {shift}, ror #8\n"
                ),
                lo = out(reg) _,
                v0 = out(reg) v,
                a0 = inout(reg) acc[0] => _,
                a1 = in(reg) acc[1],
                m = in(reg) multiplier,
                nudge_lo = in(reg) nudge as u32,
                nudge_hi = in(reg) (nudge >> 32) as i32,
                shift = in(reg) shift_offset,
                options(pure, nomem, nostack),
            );
        } else {
            core::arch::asm!(
                saturate_pair!(),
                lo = out(reg) _,
                v0 = out(reg) v,
                a0 = inout(reg) acc[0] => _,
                a1 = in(reg) acc[1],
                m = in(reg) multiplier,
                nudge_lo = in(reg) nudge as u32,
                nudge_hi = in(reg) (nudge >> 32) as i32,
                shift = in(reg) shift_offset,
                options(pure, nomem, nostack),
            );
        }
    }
    let [v0, v1, _, _] = v.to_le_bytes();
    [v0 as i8, v1 as i8]
}

/// The definition of `saturate_pair`, used where the DSP instructions are missing.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn saturate_pair<const LATE: bool>(
    acc: [i32; 2],
    multiplier: i32,
    nudge: i64,
    shift_offset: u32,
) -> [i8; 2] {
    let shift = (shift_offset & 0xff).min(31);
    let offset = i32::from((shift_offset >> 8) as u8 as i8);
    acc.map(|a| {
        let v = high_mul_add_signed(a, multiplier, nudge) >> shift;
        let v = if LATE { v + offset } else { v };
        v.clamp(-128, 127) as i8
    })
}

/// The definition of `high_mul_add_signed`, used where the DSP instructions are missing.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
pub fn high_mul_add_signed(acc: i32, multiplier: i32, nudge: i64) -> i32 {
    let sign = i64::from(acc >> 31) << 31;
    ((i64::from(acc) * i64::from(multiplier) + nudge + sign) >> 32) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_extends_even_and_odd_bytes() {
        let v = u32::from_le_bytes([0x80, 0x7f, 0xff, 0x01]);
        assert_eq!(sxtb16(v), 0xffff_ff80); // -1 high, -128 low
        assert_eq!(sxtb16_odd(v), 0x0001_007f);
    }

    #[test]
    fn dual_multiply_accumulates() {
        let pair = |lo: i16, hi: i16| u32::from(lo as u16) | u32::from(hi as u16) << 16;
        assert_eq!(
            smlad(pair(-128, 127), pair(127, -128), 5),
            5 - 2 * 128 * 127
        );
        assert_eq!(smlad(pair(3, -4), pair(-5, 6), -1), -1 - 15 - 24);
    }

    /// The wide product equals plain sums over taps, for group counts around the unroll.
    #[test]
    fn wide_product_sums_taps() {
        let mut seed = 11_u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            i32::from((seed >> 16) as i8)
        };
        let pairs = |v: [i32; 4]| -> [u64; 2] {
            let half = |t: i32| u64::from(t as i16 as u16);
            let even = half(v[0]) | half(v[2]) << 16;
            let odd = half(v[1]) | half(v[3]) << 16;
            [even, odd]
        };
        for groups in [0, 1, 3, 4, 5, 8, 11] {
            let taps = 4 * groups;
            let x: [[i32; 48]; 2] = core::array::from_fn(|_| core::array::from_fn(|_| next()));
            let wt: [[i32; 48]; 2] = core::array::from_fn(|_| core::array::from_fn(|_| next()));
            let group = |v: &[i32; 48], g: usize| pairs(core::array::from_fn(|k| v[4 * g + k]));
            let cols: [[u64; 2]; 11] = core::array::from_fn(|g| {
                let (a, b) = (group(&x[0], g), group(&x[1], g));
                [a[0] | b[0] << 32, a[1] | b[1] << 32]
            });
            let w: [[u64; 2]; 12] = core::array::from_fn(|g| {
                let (a, b) = (group(&wt[0], g), group(&wt[1], g));
                [a[0] | a[1] << 32, b[0] | b[1] << 32]
            });
            let got = dot_wide_2x2(&cols[..groups], &w[..groups + 1], [[1, 2], [3, 4]]);
            let want: [[i32; 2]; 2] = core::array::from_fn(|k| {
                core::array::from_fn(|c| {
                    let start = [[1, 2], [3, 4]][k][c];
                    start + (0..taps).map(|t| x[k][t] * wt[c][t]).sum::<i32>()
                })
            });
            assert_eq!(got, want, "{groups} groups");
        }
    }
}
