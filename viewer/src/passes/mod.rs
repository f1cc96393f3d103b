//! Per-frame passes: the main 3D pass into an MSAA target, and the screenshot read-back.

mod main_pass;
mod screenshot;

pub use main_pass::{main_pass, Target};
pub use screenshot::read_back;
