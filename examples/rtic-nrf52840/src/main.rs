#![no_std]
#![no_main]

include!(concat!(env!("OUT_DIR"), "/ariel_models.rs"));

/// The board's interrupts as RTIC sees them: one line, which no peripheral raises, runs the
/// software tasks. (A crate for a chip with a PAC can use the PAC instead.)
mod irq {
    #[derive(Clone, Copy)]
    #[allow(non_camel_case_types)]
    pub enum Interrupt {
        SOFTWARE_TASKS = 30,
    }

    // SAFETY: the number is an interrupt line of the NVIC.
    unsafe impl cortex_m::interrupt::InterruptNumber for Interrupt {
        fn number(self) -> u16 {
            self as u16
        }
    }

    pub use Interrupt as interrupt;
    pub const NVIC_PRIO_BITS: u8 = 3;

    extern "C" {
        fn DefaultHandler();
        fn SOFTWARE_TASKS();
    }

    /// The interrupt vectors after the exceptions (cortex-m-rt's `device` feature): every line
    /// goes to `DefaultHandler` but the software tasks' one.
    #[link_section = ".vector_table.interrupts"]
    #[no_mangle]
    static __INTERRUPTS: [unsafe extern "C" fn(); 30 + 1] = {
        let mut vectors = [DefaultHandler as unsafe extern "C" fn(); 30 + 1];
        vectors[Interrupt::SOFTWARE_TASKS as usize] = SOFTWARE_TASKS;
        vectors
    };
}

/// Index of the largest value (the first one on ties).
fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (k, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = k;
        }
    }
    best
}

#[rtic::app(device = crate::irq, peripherals = false, dispatchers = [SOFTWARE_TASKS])]
mod app {
    use super::{argmax, mnist};
    use ariel_board::{exit, println};
    use rtic_sync::channel::{Receiver, Sender};
    use rtic_sync::make_channel;

    #[shared]
    struct Shared {}

    #[local]
    struct Local {
        arena: mnist::Arena,
    }

    #[init]
    fn init(_: init::Context) -> (Shared, Local) {
        ariel_board::cores::boot();
        let (send, receive) = make_channel!([f32; mnist::INPUT3_LEN], 1);
        sensor::spawn(send).ok();
        inference::spawn(receive).ok();
        (
            Shared {},
            Local {
                arena: mnist::Arena::new(),
            },
        )
    }

    /// Stands for a sensor: sends one input.
    #[task(priority = 1)]
    async fn sensor(_: sensor::Context, mut inputs: Sender<'static, [f32; mnist::INPUT3_LEN], 1>) {
        // Replace these zeros with your sensor data.
        inputs.send([f32::default(); mnist::INPUT3_LEN]).await.ok();
    }

    /// Runs the model on each input it receives; prints the result and ends the program.
    #[task(priority = 1, local = [arena])]
    async fn inference(
        cx: inference::Context,
        mut inputs: Receiver<'static, [f32; mnist::INPUT3_LEN], 1>,
    ) {
        if let Ok(input3) = inputs.recv().await {
            let mut plus214_output_0 = [f32::default(); mnist::PLUS214_OUTPUT_0_LEN];
            mnist::run(cx.local.arena, &input3, &mut plus214_output_0);
            println!(
                "prediction: {} {:?}",
                argmax(&plus214_output_0),
                plus214_output_0
            );
        }
        exit(0)
    }
}
