//! Start-up, host I/O and exit for the firmware that ariel-build builds, on every board.
//!
//! * Start-up: `cortex-m-rt` (Arm) or `riscv-rt` (RISC-V); the firmware's `memory.x` comes from the
//!   board definition. Use [`entry`] on the firmware's `main`.
//! * Host I/O and exit: Arm/RISC-V semihosting (QEMU `-semihosting-config enable=on,target=native`
//!   or a debug probe). A panic prints its message and exits with status 101, a fault or trap
//!   with status 4.
//! * Boot blocks some chips' ROMs need in flash, by feature (`rp2040-boot2`, `rp2350-image-def`).
//! * Other cores: start-up and [`cores::run_on_cores`] (feature `sse200-cpuwait`, or RISC-V harts).
#![no_std]

pub mod cores;
pub mod host;

#[cfg(target_arch = "arm")]
mod cortex_m;
#[cfg(target_arch = "riscv32")]
mod riscv;
#[cfg(feature = "rp2040-boot2")]
mod rp2040;
#[cfg(feature = "rp2350-image-def")]
mod rp2350;

#[cfg(target_arch = "arm")]
pub use cortex_m::FAULT_EXIT;
#[cfg(target_arch = "arm")]
pub use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
pub use riscv::FAULT_EXIT;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt::entry;
pub use semihosting::{eprintln, println};

/// Ends the program; the emulator (or probe) exits with `code`.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}
