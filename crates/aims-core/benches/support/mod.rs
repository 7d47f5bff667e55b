//! Timing helpers shared by the benches: the calling thread's CPU time, so single-threaded,
//! CPU-bound figures stay meaningful on a shared, loaded machine (wall time there measures
//! the scheduler as much as the code).

use std::hint::black_box;
use std::time::Duration;

/// The calling thread's CPU time (user and system, `CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Runs `routine` `iters` times and returns the thread CPU time it took.
pub fn cpu_timed<T>(iters: u64, mut routine: impl FnMut(u64) -> T) -> Duration {
    let start = thread_cpu();
    for i in 0..iters {
        black_box(routine(i));
    }
    thread_cpu() - start
}
