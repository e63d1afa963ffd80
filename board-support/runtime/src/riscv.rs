//! RISC-V: a trap ends the program with a message instead of looping forever.

/// Exit status of a firmware stopped by a trap.
pub const FAULT_EXIT: i32 = 4;

#[export_name = "ExceptionHandler"]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    semihosting::eprintln!("trap (ra {:#010x})", frame.ra);
    crate::exit(FAULT_EXIT)
}
