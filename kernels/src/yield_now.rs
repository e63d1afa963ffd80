//! A future that gives the executor one turn: generated `async` entries await it between ops,
//! so other tasks on the same core run while a model infers. Needs no executor of its own.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Pending on its first poll (after waking its own waker, so the executor polls it again soon),
/// ready on the next.
#[must_use = "a future does nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

/// Returns to the executor once; the caller continues when the executor polls it again.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use core::task::Waker;
    use std::sync::Arc;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_itself_and_is_pending_once_then_ready() {
        let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = core::pin::pin!(yield_now());
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn polled_by_hand_with_a_noop_waker() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = core::pin::pin!(yield_now());
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(()));
    }
}
