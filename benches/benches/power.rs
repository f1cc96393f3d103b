//! power benchmarks: being written.

fn main() {}
