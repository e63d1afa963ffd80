//! Arm Cortex-M: a fault ends the program with a message instead of looping forever.

use cortex_m_rt::{exception, ExceptionFrame};

/// Exit status of a firmware stopped by a fault.
pub const FAULT_EXIT: i32 = 4;

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    semihosting::eprintln!("hard fault at pc {:#010x}", frame.pc());
    crate::exit(FAULT_EXIT)
}

#[exception]
unsafe fn DefaultHandler(irq: i16) {
    semihosting::eprintln!("unexpected exception {}", irq);
    crate::exit(FAULT_EXIT)
}
