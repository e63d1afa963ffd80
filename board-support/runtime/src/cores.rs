//! The other cores: their start-up, and a fork-join that runs one job on every core.
//!
//! Core 0 runs the firmware's `main`; the other cores wait in [`serve`] for jobs that core 0
//! posts with [`run_on_cores`] ([`run_on_cores_async`] in an async task). A job is a closure
//! called with the core's index; core 0 runs its own closure meanwhile and returns only after
//! every core has finished, so the closures may borrow core 0's stack (inputs, for instance).
//!
//! Start-up per board:
//! * SSE-200 (`sse200-cpuwait`, QEMU mps3-an524): CPU1 is held by CPUWAIT until core 0 writes
//!   CPU1's vector table (its own stack and reset handler) to INITSVTOR1 and clears CPUWAIT bit 1.
//! * RP2040 / RP2350 (`rp-sio-fifo`): core 1 waits in the boot ROM until core 0 sends it the
//!   launch sequence (vector table, stack, entry) through the SIO FIFO; then it spins for jobs.
//! * STM32H747 (`stm32h7-boot-c2`): the M4 boots from the vector table at 0x08100000 (the
//!   linker places core 1's there) and waits until core 0 sets `RCC_GCR.BOOT_C2`.
//! * RISC-V: every hart starts at the entry; hart 0 initialises memory (`_mp_hook`) and runs
//!   `main`, the others enter `main` too and go to [`serve`] from [`boot`]. Waiting for a job
//!   they sleep (`wfi`) until core 0 raises their machine software interrupt (CLINT `msip`;
//!   interrupts stay disabled in `mstatus`, the pending bit just ends `wfi`).
//!
//! Stack use: [`paint_stack`] fills a core's unused stack with [`STACK_PAINT`] (core 0 calls it
//! in `main`, the other cores in [`serve`] before their first job); [`stack_used`] later finds the deepest word
//! no longer painted. Each core's stack bounds come from its `arch` module.
//!
//! Protocol: core 0 writes the job, then stores `generation + 1` (Release); a core loads the
//! generation (Acquire), runs the job and stores the generation into its `done` slot (Release).
//! Core 0 writes the next job only after every core's `done` holds the current generation, so
//! the job is never written while it is read.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// Most cores a board may have.
pub const MAX_CORES: usize = 8;

#[derive(Clone, Copy)]
struct Job {
    cores: usize,
    data: *const (),
    call: unsafe fn(*const (), usize),
}

struct Mailbox {
    job: UnsafeCell<Job>,
    generation: AtomicU32,
    done: [AtomicU32; MAX_CORES],
}

// SAFETY: `job` is written by core 0 only while no other core reads it (module comment).
unsafe impl Sync for Mailbox {}

fn no_job(_: *const (), _: usize) {}

static MAILBOX: Mailbox = Mailbox {
    job: UnsafeCell::new(Job {
        cores: 0,
        data: core::ptr::null(),
        call: no_job,
    }),
    generation: AtomicU32::new(0),
    done: [const { AtomicU32::new(0) }; MAX_CORES],
};

/// Index of the core running this code (0 = the core that runs `main`).
pub fn core_id() -> usize {
    arch::core_id()
}

/// Cores the board starts (every one of them takes part in every job).
pub fn started_cores() -> usize {
    arch::started().min(MAX_CORES)
}

/// Call first in `main`: on cores other than 0 it never returns (they serve jobs).
pub fn boot() {
    let core = core_id();
    if core != 0 {
        serve(core)
    }
}

/// Runs `main` here (core 0) and `worker(k)` on cores `1..cores`; returns when all are done.
pub fn run_on_cores<M: FnOnce(), W: Fn(usize) + Sync>(cores: usize, main: M, worker: &W) {
    let _joined = post(cores, worker);
    main();
}

/// [`run_on_cores`] for an async task: awaits `main` here (so it may yield to the executor)
/// while cores `1..cores` run `worker`. Dropping the future early waits for the other cores.
///
/// # Safety
/// The other cores borrow `worker` until they are done, which only the future's drop or
/// completion waits for: the caller must await the future to completion (or drop it), never
/// leak it (e.g. `forget` of a boxed future) while it runs.
pub async unsafe fn run_on_cores_async<
    M: core::future::Future<Output = ()>,
    W: Fn(usize) + Sync,
>(
    cores: usize,
    main: M,
    worker: &W,
) {
    let _joined = post(cores, worker);
    main.await;
}

/// Waits, when dropped, until every core has finished the job of `generation`.
struct Joined {
    generation: u32,
}

impl Drop for Joined {
    fn drop(&mut self) {
        for done in &MAILBOX.done[1..started_cores()] {
            while done.load(Ordering::Acquire) != self.generation {
                core::hint::spin_loop();
            }
        }
    }
}

/// Posts `worker` as the next job for cores `1..cores` and wakes them.
fn post<W: Fn(usize) + Sync>(cores: usize, worker: &W) -> Joined {
    assert!(
        cores <= started_cores(),
        "more cores asked for than the board starts"
    );
    unsafe fn call<W: Fn(usize) + Sync>(data: *const (), core: usize) {
        // SAFETY: `data` is the `&W` posted below, alive until every core reported done.
        unsafe { (*data.cast::<W>())(core) }
    }
    let generation = MAILBOX.generation.load(Ordering::Relaxed).wrapping_add(1);
    // SAFETY: every core finished the previous job (its `Joined` waited), so none reads `job`.
    unsafe {
        *MAILBOX.job.get() = Job {
            cores,
            data: (worker as *const W).cast(),
            call: call::<W>,
        };
    }
    MAILBOX.generation.store(generation, Ordering::Release);
    arch::wake_others();
    Joined { generation }
}

/// Word written over the unused stack; a word that no longer holds it has been used.
pub const STACK_PAINT: u32 = 0xCCCC_CCCC;
/// Bytes just below the caller's frame left unpainted (`paint_stack`'s own frame lives there).
const PAINT_GUARD: usize = 256;

/// Paints this core's stack from its bottom up to `PAINT_GUARD` bytes below the caller's frame.
#[inline(never)]
pub fn paint_stack() {
    let here = 0u32;
    let top = ((&raw const here) as usize - PAINT_GUARD) & !3;
    let mut word = arch::stack(core_id()).start;
    while word < top {
        // SAFETY: `word` is in this core's stack below its stack pointer (minus the guard), a part
        // no live frame uses and no interrupt handler can (interrupts stay disabled).
        unsafe { core::ptr::write_volatile(word as *mut u32, STACK_PAINT) };
        word += 4;
    }
}

/// Bytes of `core`'s stack used since it was painted: from its top down to the deepest word that
/// no longer holds [`STACK_PAINT`]. Call on core 0 while `core` waits (or on `core` itself).
pub fn stack_used(core: usize) -> usize {
    let stack = arch::stack(core);
    // SAFETY: aligned reads inside `core`'s stack; words it writes meanwhile are above the deepest
    // used one (it waits in `serve`), so the result does not depend on them.
    let painted =
        |word: usize| unsafe { core::ptr::read_volatile(word as *const u32) } == STACK_PAINT;
    let deepest = stack.clone().step_by(4).find(|&word| !painted(word));
    stack.end - deepest.unwrap_or(stack.end)
}

/// Core 0's stack on Arm: from the end of the statics to the top of RAM (cortex-m-rt's symbols).
#[cfg(target_arch = "arm")]
fn core0_stack() -> core::ops::Range<usize> {
    extern "C" {
        static _stack_end: u32; // linker symbols: their addresses are the values
        static _stack_start: u32;
    }
    (&raw const _stack_end) as usize..(&raw const _stack_start) as usize
}

/// Loop of the cores other than 0: wait for a job, run it, report done.
fn serve(core: usize) -> ! {
    let mut seen = 0;
    let mut painted = false;
    loop {
        let generation = loop {
            let g = MAILBOX.generation.load(Ordering::Acquire);
            if g != seen {
                break g;
            }
            arch::idle(core);
        };
        seen = generation;
        // SAFETY: core 0 wrote the job before publishing `generation` (Acquire above) and leaves
        // it alone until this core reports done.
        let job = unsafe { *MAILBOX.job.get() };
        if core < job.cores {
            if !painted {
                paint_stack(); // at its first job, so a core that never gets one stays idle
                painted = true;
            }
            // SAFETY: `call` and `data` are a matching pair from `run_on_cores`.
            unsafe { (job.call)(job.data, core) }
        }
        MAILBOX.done[core].store(generation, Ordering::Release);
    }
}

#[cfg(any(
    feature = "sse200-cpuwait",
    feature = "rp-sio-fifo",
    feature = "stm32h7-boot-c2"
))]
mod core1 {
    //! Core 1's own stack and vector table (core 0's are the ones cortex-m-rt sets up).
    const STACK_BYTES: usize = 32 * 1024;

    #[repr(C, align(8))]
    struct Stack([u8; STACK_BYTES]);

    // On the STM32H747 the M4 may run before core 0 zeroes .bss: its stack is left out of it.
    #[cfg_attr(
        feature = "stm32h7-boot-c2",
        link_section = ".uninit.ariel_core1_stack"
    )]
    static mut STACK: Stack = Stack([0; STACK_BYTES]);

    pub fn stack() -> core::ops::Range<usize> {
        let bottom = (&raw const STACK) as usize; // taking the address needs no `unsafe`
        bottom..bottom + STACK_BYTES
    }

    /// The stack of `core` on a two-core chip: cortex-m-rt's for core 0, the static above for 1.
    pub fn stack_of(core: usize) -> core::ops::Range<usize> {
        if core == 0 {
            super::core0_stack()
        } else {
            stack()
        }
    }

    /// Initial stack pointer, reset handler and the 14 system exception handlers; VTOR needs
    /// 128-byte alignment for this size.
    #[repr(C, align(128))]
    pub struct VectorTable {
        pub stack_top: *const u8,
        pub handlers: [extern "C" fn() -> !; 15],
    }

    // SAFETY: read-only after link time.
    unsafe impl Sync for VectorTable {}

    /// On the STM32H747 at the M4's boot address (memory.x places `.core1_vectors` there).
    #[cfg_attr(feature = "stm32h7-boot-c2", link_section = ".core1_vectors", used)]
    pub static VECTORS: VectorTable = VectorTable {
        // SAFETY: one past the end of STACK (only the address is taken).
        stack_top: unsafe { (&raw const STACK).cast::<u8>().add(STACK_BYTES) },
        handlers: {
            let mut h: [extern "C" fn() -> !; 15] = [fault; 15];
            h[0] = reset;
            h
        },
    };

    pub extern "C" fn reset() -> ! {
        #[cfg(feature = "stm32h7-boot-c2")]
        super::arch::await_release();
        super::serve(1)
    }

    extern "C" fn fault() -> ! {
        semihosting::eprintln!("fault on core 1");
        crate::exit(crate::FAULT_EXIT)
    }
}

#[cfg(feature = "sse200-cpuwait")]
mod arch {
    //! SSE-200 (QEMU hw/misc/iotkit-sysctl.c, hw/arm/armsse.c): the Secure system control block,
    //! CPU1's initial vector table register and the CPU wait register; per-CPU CPUID register.
    const SYSCTL: usize = 0x5002_1000;
    const INITSVTOR1: usize = SYSCTL + 0x114;
    const CPUWAIT: usize = SYSCTL + 0x118;
    const CPUID: usize = 0x4001_F000;

    pub fn started() -> usize {
        2
    }

    pub fn core_id() -> usize {
        // SAFETY: CPUID is a read-only register of the SSE-200 at this address.
        unsafe { core::ptr::read_volatile(CPUID as *const u32) as usize }
    }

    /// Starts CPU1 the first time; it then finds each job by spinning.
    pub fn wake_others() {
        // SAFETY: system control registers of the SSE-200; only core 0 touches them.
        unsafe {
            let wait = core::ptr::read_volatile(CPUWAIT as *const u32);
            if wait & 0b10 != 0 {
                let vectors = &raw const super::core1::VECTORS as u32;
                core::ptr::write_volatile(INITSVTOR1 as *mut u32, vectors);
                core::ptr::write_volatile(CPUWAIT as *mut u32, wait & !0b10);
            }
        }
        cortex_m::asm::dsb(); // the posted job is visible before the event
        cortex_m::asm::sev();
    }

    /// Sleeps until an event (core 0's `sev` after posting a job) instead of polling the bus.
    pub fn idle(_core: usize) {
        cortex_m::asm::wfe();
    }

    pub use super::core1::stack_of as stack;
}

#[cfg(feature = "rp-sio-fifo")]
mod arch {
    //! RP2040 and RP2350 (datasheets: "Launching code on processor core 1", RP2040 2.8.2, RP2350
    //! 5.3): after reset core 1 waits in the boot ROM for a launch sequence on the SIO
    //! inter-core FIFO: 0, 0, 1, vector table, stack pointer, entry. The ROM echoes each word;
    //! on a mismatch the sequence starts again. Before a 0 the sender drains its read FIFO and
    //! wakes core 1 (SEV), since the ROM sleeps in WFE while the FIFO is empty. Only atomic load
    //! and store are used elsewhere (the RP2040's Cortex-M0+ has no atomic read-modify-write).
    use core::sync::atomic::{AtomicBool, Ordering};

    const SIO: usize = 0xD000_0000;
    const CPUID: usize = SIO;
    const FIFO_ST: usize = SIO + 0x050;
    const FIFO_WR: usize = SIO + 0x054;
    const FIFO_RD: usize = SIO + 0x058;
    const FIFO_VALID: u32 = 1 << 0; // the read FIFO holds a word
    const FIFO_READY: u32 = 1 << 1; // the write FIFO has room

    static LAUNCHED: AtomicBool = AtomicBool::new(false);

    fn sio_read(address: usize) -> u32 {
        // SAFETY: a SIO register of this core (core-local, side effects only for FIFO_RD).
        unsafe { core::ptr::read_volatile(address as *const u32) }
    }

    fn sio_write(address: usize, value: u32) {
        // SAFETY: FIFO_WR, the SIO register through which this core sends to the other.
        unsafe { core::ptr::write_volatile(address as *mut u32, value) }
    }

    pub fn started() -> usize {
        2
    }

    pub fn core_id() -> usize {
        sio_read(CPUID) as usize
    }

    pub fn wake_others() {
        if !LAUNCHED.load(Ordering::Relaxed) {
            launch_core1();
            LAUNCHED.store(true, Ordering::Relaxed);
        }
        cortex_m::asm::dsb(); // the posted job is visible before the event
        cortex_m::asm::sev();
    }

    fn launch_core1() {
        let sequence = [
            0,
            0,
            1,
            &raw const super::core1::VECTORS as u32,
            super::core1::VECTORS.stack_top as u32,
            super::core1::reset as *const () as u32, // a Thumb address (bit 0 set)
        ];
        let mut next = 0;
        while next < sequence.len() {
            let word = sequence[next];
            if word == 0 {
                while sio_read(FIFO_ST) & FIFO_VALID != 0 {
                    sio_read(FIFO_RD);
                }
                cortex_m::asm::sev();
            }
            while sio_read(FIFO_ST) & FIFO_READY == 0 {}
            sio_write(FIFO_WR, word);
            cortex_m::asm::sev();
            while sio_read(FIFO_ST) & FIFO_VALID == 0 {
                cortex_m::asm::wfe();
            }
            next = if sio_read(FIFO_RD) == word {
                next + 1
            } else {
                0
            };
        }
    }

    /// Sleeps until an event (core 0's `sev` after posting a job).
    pub fn idle(_core: usize) {
        cortex_m::asm::wfe();
    }

    pub use super::core1::stack_of as stack;
}

#[cfg(feature = "stm32h7-boot-c2")]
mod arch {
    //! STM32H747 (RM0399): the M7 (core 0) boots at BOOT_CM7_ADD0, the M4 at BOOT_CM4_ADD0
    //! (0x08100000 by default, flash bank 2) if option bit BCM4 is set; otherwise it is gated
    //! until software sets RCC_GCR.BOOT_C2 (RM0399 "Boot configuration"; RCC "RCC global control
    //! register (RCC_GCR)", bit 3; section numbers not checked against a copy here). So the
    //! M4 may start with core 0, before RAM is initialised: its reset handler touches only its
    //! own stack (not zeroed) and waits for BOOT_C2, which core 0 sets in its first
    //! `wake_others`, after start-up. The M4 then polls the mailbox: that the M7's SEV reaches
    //! the M4's event input is not confirmed, so it does not sleep in WFE. The M7's data cache
    //! stays off (cortex-m-rt does not enable it), so both cores see the shared AXI SRAM.
    const RCC_GCR: usize = 0x5802_4400 + 0x0A0;
    const BOOT_C2: u32 = 1 << 3;
    /// Each core's own System Control Block (private peripheral bus).
    const SCB_CPUID: usize = 0xE000_ED00;
    const SCB_CPACR: usize = 0xE000_ED88;
    const CORTEX_M4_PARTNO: u32 = 0xC24;

    pub fn started() -> usize {
        2
    }

    pub fn core_id() -> usize {
        // SAFETY: CPUID is a read-only register of the core's own SCB.
        let cpuid = unsafe { core::ptr::read_volatile(SCB_CPUID as *const u32) };
        usize::from((cpuid >> 4) & 0xFFF == CORTEX_M4_PARTNO)
    }

    fn boot_c2() -> bool {
        // SAFETY: RCC_GCR, readable by both cores.
        unsafe { core::ptr::read_volatile(RCC_GCR as *const u32) & BOOT_C2 != 0 }
    }

    /// Releases the M4 the first time (a no-op if BCM4 booted it already).
    pub fn wake_others() {
        cortex_m::asm::dsb(); // the posted job is in RAM before the M4 is released
        if !boot_c2() {
            // SAFETY: read-modify-write of RCC_GCR by core 0 only; BOOT_C2 lets the M4 boot.
            unsafe {
                let gcr = core::ptr::read_volatile(RCC_GCR as *const u32);
                core::ptr::write_volatile(RCC_GCR as *mut u32, gcr | BOOT_C2);
            }
        }
        cortex_m::asm::sev();
    }

    /// First thing on the M4: waits for core 0's release, then enables its FPU (the code is
    /// built for thumbv7em-none-eabihf; cortex-m-rt's reset, which does this, runs on core 0 only).
    pub fn await_release() {
        while !boot_c2() {
            core::hint::spin_loop();
        }
        // SAFETY: CPACR of this core; CP10 and CP11 full access, nothing else changes.
        unsafe {
            let cpacr = core::ptr::read_volatile(SCB_CPACR as *const u32);
            core::ptr::write_volatile(SCB_CPACR as *mut u32, cpacr | 0xF << 20);
        }
        cortex_m::asm::dsb();
        cortex_m::asm::isb();
    }

    pub fn idle(_core: usize) {
        core::hint::spin_loop();
    }

    pub use super::core1::stack_of as stack;
}

#[cfg(target_arch = "riscv32")]
mod arch {
    //! Every hart up to `_max_hart_id` (memory.x) starts at the entry with its own stack.
    use core::sync::atomic::Ordering;

    extern "C" {
        static _max_hart_id: u8; // linker symbols: their addresses are the values
        static _hart_stack_size: u8;
        static _stack_start: u8;
    }

    pub fn started() -> usize {
        (&raw const _max_hart_id) as usize + 1 // taking the address needs no `unsafe`
    }

    pub fn core_id() -> usize {
        riscv::register::mhartid::read()
    }

    /// Machine software interrupt pending bits, one word per hart (QEMU virt's CLINT).
    const CLINT_MSIP: usize = 0x0200_0000;

    pub fn wake_others() {
        core::sync::atomic::fence(Ordering::SeqCst); // the job is posted before any hart wakes
        for hart in 1..super::started_cores() {
            // SAFETY: the hart's msip word of the CLINT.
            unsafe { core::ptr::write_volatile((CLINT_MSIP + 4 * hart) as *mut u32, 1) }
        }
    }

    pub fn idle(core: usize) {
        // SAFETY: enables only the software interrupt in `mie`; `mstatus.MIE` stays 0, so a
        // pending interrupt ends `wfi` without trapping.
        unsafe { riscv::register::mie::set_msoft() };
        riscv::asm::wfi();
        // SAFETY: this hart's msip word of the CLINT.
        unsafe { core::ptr::write_volatile((CLINT_MSIP + 4 * core) as *mut u32, 0) }
        core::sync::atomic::fence(Ordering::SeqCst); // cleared before the job is looked for
    }

    /// Hart `core`'s stack: riscv-rt starts hart k at `_stack_start - k * _hart_stack_size`.
    pub fn stack(core: usize) -> core::ops::Range<usize> {
        let size = (&raw const _hart_stack_size) as usize;
        let top = (&raw const _stack_start) as usize - core * size;
        top - size..top
    }

    /// riscv-rt calls this on every hart before memory is initialised: hart 0 initialises.
    #[export_name = "_mp_hook"]
    fn mp_hook(hartid: usize) -> bool {
        hartid == 0
    }
}

#[cfg(not(any(
    feature = "sse200-cpuwait",
    feature = "rp-sio-fifo",
    feature = "stm32h7-boot-c2",
    target_arch = "riscv32"
)))]
mod arch {
    pub fn started() -> usize {
        1
    }

    pub fn core_id() -> usize {
        0
    }

    pub fn wake_others() {}

    pub fn idle(_core: usize) {
        core::hint::spin_loop();
    }

    pub fn stack(_core: usize) -> core::ops::Range<usize> {
        super::core0_stack()
    }
}
