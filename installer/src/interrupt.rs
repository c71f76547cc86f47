//! SIGINT and SIGTERM: the first asks the operation to stop at the next
//! safe point and roll back; later ones are acknowledged but cannot make
//! hop leave the host half-done.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Starts listening for SIGINT and SIGTERM (once: later calls do nothing).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(listen);
}

fn listen() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        for _ in signals.forever() {
            let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
            REQUESTED.store(true, Ordering::SeqCst);
            if n == 1 {
                eprintln!(
                    "\nhop-install: interrupted; stopping at the next safe point, then putting the host back"
                );
            } else {
                eprintln!(
                    "\nhop-install: still finishing safely; stopping now would leave the host half-done"
                );
            }
        }
    });
}

/// Whether an interrupt was received.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
