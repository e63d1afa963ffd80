//! Dual 16-bit multiply-accumulate on values packed two to a `u32` (low half first).
//!
//! On Arm cores with the DSP extension these are the single instructions SMLAD and SXTB16,
//! written as inline assembly because `core::arch::arm`'s DSP intrinsics are unstable. Everywhere
//! else they are plain Rust with the same definition, so both give identical results.
//!
//! Audit (the only `unsafe` in the int8 kernels): each `asm!` reads its register operands and
//! writes one register; no memory access, no stack use, no control flow. SMLAD may set the
//! sticky Q flag on overflow, which no Rust code reads, so it does not claim `preserves_flags`.

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

#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
pub use portable::{smlad, smlad_ordered, sxtb16, sxtb16_odd};

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
}
