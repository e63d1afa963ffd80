#![no_std]
#![no_main]

include!(concat!(env!("OUT_DIR"), "/ariel_models.rs"));

use ariel_board::{exit, println};
use embassy_executor::Spawner;
use embassy_sync::blocking_mutex::raw::ThreadModeRawMutex;
use embassy_sync::channel::Channel;

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

/// The arena and flags the cores share (mnist::SHARED_ARENA_BYTES of RAM).
static SHARED: mnist::Shared = mnist::Shared::new();

/// Runs the model on mnist::CORES cores; the calling core takes part,
/// yielding to the executor between its ops.
async fn infer(
    input3: &[f32; mnist::INPUT3_LEN],
    plus214_output_0: &mut [f32; mnist::PLUS214_OUTPUT_0_LEN],
) {
    // SAFETY: awaited here, and `infer` is only awaited (never leaked) by the inference
    // task, so the other cores' borrow of the worker ends before `infer` returns.
    unsafe {
        ariel_board::cores::run_on_cores_async(
            mnist::CORES,
            mnist::run_main_async(&SHARED, input3, plus214_output_0),
            &|core| mnist::run_worker(core, &SHARED, input3),
        )
    }
    .await;
}

/// Inputs from the sensor task to the inference task.
static INPUTS: Channel<ThreadModeRawMutex, [f32; mnist::INPUT3_LEN], 1> = Channel::new();

/// Stands for a sensor: sends one input.
#[embassy_executor::task]
async fn sensor() {
    // Replace these zeros with your sensor data.
    INPUTS.send([f32::default(); mnist::INPUT3_LEN]).await;
}

/// Runs the model on each input it receives (other tasks run between its ops); prints the
/// result and ends the program.
#[embassy_executor::task]
async fn inference() {
    let input3 = INPUTS.receive().await;
    let mut plus214_output_0 = [f32::default(); mnist::PLUS214_OUTPUT_0_LEN];
    infer(&input3, &mut plus214_output_0).await;
    println!(
        "prediction: {} {:?}",
        argmax(&plus214_output_0),
        plus214_output_0
    );
    exit(0)
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    ariel_board::cores::boot();
    spawner.spawn(inference()).unwrap();
    spawner.spawn(sensor()).unwrap();
}
