//! water benchmarks: being written.

fn main() {}
